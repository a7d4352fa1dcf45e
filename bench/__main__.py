"""`make bench`: run every benchmark and print its ratios."""

from __future__ import annotations

from bench import assemble, detect, kenburns

if __name__ == "__main__":
    kenburns.main()
    assemble.main()
    detect.main()
