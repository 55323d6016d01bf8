"""What crosses the edge of the process: session files and the command line."""
