# Test node: systemd as PID 1 (when the runtime allows it), sshd, and the service probe.
ARG BASE
FROM ${BASE}
ARG PACKAGES
ENV LANG=C.UTF-8 LC_ALL=C.UTF-8 container=docker
COPY node-setup node-entry /usr/local/sbin/
RUN node-setup install ${PACKAGES} && node-setup sshd && node-setup systemd
COPY probe-services /usr/local/bin/st2pkg-probe-services
EXPOSE 22
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/sbin/node-entry"]
CMD ["systemd"]
