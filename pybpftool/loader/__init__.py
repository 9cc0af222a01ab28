"""loader: ObjectSpec -> maps and programs in the kernel, iproute2's way (see core.py)."""

from pybpftool.loader.core import LoadedObject, LoadOptions, Program, load_object, select_programs
from pybpftool.loader.maps import Map

__all__ = ["LoadOptions", "LoadedObject", "Map", "Program", "load_object", "select_programs"]
