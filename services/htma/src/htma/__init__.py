"""htma: the hair-tissue mineral analysis lab service."""
