# Build node: the package format's toolchain and sshd. BASE and PACKAGES come from distros/.
ARG BASE
FROM ${BASE}
ARG PACKAGES
ENV LANG=C.UTF-8 LC_ALL=C.UTF-8
COPY node-setup node-entry /usr/local/sbin/
RUN node-setup install ${PACKAGES} && node-setup sshd
EXPOSE 22
ENTRYPOINT ["/usr/local/sbin/node-entry"]
CMD ["plain"]
