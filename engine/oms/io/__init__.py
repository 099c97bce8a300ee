"""Registry input: FFOMS XML reader (H, C, T, D and L files of every described version, zip), ФЛК stage 1, protocol."""

from .guard import Limits
from .protocol import CODES, FlkError, write_protocol
from .registry import RegistryData, RegistryResult, read_registry
from .scan import FileInfo

__all__ = [
    "CODES",
    "FileInfo",
    "FlkError",
    "Limits",
    "RegistryData",
    "RegistryResult",
    "read_registry",
    "write_protocol",
]
