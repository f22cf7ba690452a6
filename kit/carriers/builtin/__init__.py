"""The carriers the kit brings, registered as plugins like any other."""
