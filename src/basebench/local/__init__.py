"""Local stand-ins for the official python images, built from Debian's mirror and CPython sources.

Used when no registry serves the official images (air-gapped networks, these CI machines), and
whenever a same-source, same-flags glibc/musl pair is wanted.
"""
