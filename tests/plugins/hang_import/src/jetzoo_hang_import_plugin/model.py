"""A plugin module that never finishes importing (a busy loop, as a stuck download or lock would)."""

while True:
    pass
