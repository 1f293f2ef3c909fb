"""`python -m bot` is the `tuanbot` command."""
from bot.cli import main

main()
