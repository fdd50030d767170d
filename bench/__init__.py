"""`make bench`: measurements of what students and instructors feel (see bench/README.md)."""
