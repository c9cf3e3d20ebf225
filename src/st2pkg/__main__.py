"""`python -m st2pkg`: the st2pkg command."""

from st2pkg.cli import main

main()
