"""One module per ``basebench`` subcommand (HELP, add_arguments, run)."""
