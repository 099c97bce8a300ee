"""Frames and name lookup used by the type checker."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Frame:
    entity: str | None   # None: the global context (forms), one row
    alias: str | None = None
    bare: bool = True     # bare names resolve in this frame


class Scope:
    def __init__(self, entity: str | None) -> None:
        self.frames: list[Frame] = [Frame(entity, None, True)]

    @property
    def depth(self) -> int:
        return len(self.frames) - 1

    def push(self, frame: Frame) -> None:
        self.frames.append(frame)

    def pop(self) -> None:
        self.frames.pop()

    def bare_frame(self) -> int:
        for i in range(len(self.frames) - 1, -1, -1):
            if self.frames[i].bare:
                return i
        return 0

    def frame_for_prefix(self, name: str) -> int | None:
        """Innermost frame that `name.` designates: an alias, or an entity without alias."""
        for i in range(len(self.frames) - 1, -1, -1):
            f = self.frames[i]
            if f.alias == name:
                return i
            if f.alias is None and f.entity == name:
                return i
        return None

    def current_entity(self) -> str | None:
        return self.frames[self.bare_frame()].entity
