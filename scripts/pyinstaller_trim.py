"""Trimming helpers for build_installer.spec (PyInstaller); plain functions on TOC lists.

A PyInstaller TOC entry is ``(dest_name, src_path, typecode)``. The spec decides *what* to
drop (its lists of Qt plugins and host libraries); this module does the mechanics:

* ``prune_unlinked``: after plugins and libraries were removed, drop every shared library
  that no remaining extension module, plugin or library links against any more (a
  reachability walk over the direct link-time imports).
* ``drop_dangling_symlinks``: PyInstaller's SYMLINK entries whose target was dropped.
* ``trim_icu_library``: rewrite Qt's ``libicudata.so.NN`` (30 MB, Linux only) keeping the
  ICU data Qt can use here (root and English locale data, collation, normalisation, break
  rules, IDNA, time zones), without the other ~700 locales, the legacy codepage tables, the
  CJK/SEA word dictionaries and the transliterators; see ``keep_icu_item``.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable, Iterable

Entry = tuple[str, str, str]


def norm(dest: str) -> str:
    return dest.replace("\\", "/")


# --- link-time imports ------------------------------------------------------------------

def elf_needed(path: str) -> list[str]:
    """DT_NEEDED entries of an ELF file (direct imports only, unlike ldd's closure)."""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF":
        return []
    is64, endian = elf[4] == 2, "<" if elf[5] == 1 else ">"
    if is64:
        shoff = struct.unpack_from(endian + "Q", elf, 0x28)[0]
        shentsize, shnum = struct.unpack_from(endian + "HH", elf, 0x3A)
        shdr, dyn = endian + "IIQQQQIIQQ", endian + "qQ"
    else:
        shoff = struct.unpack_from(endian + "I", elf, 0x20)[0]
        shentsize, shnum = struct.unpack_from(endian + "HH", elf, 0x2E)
        shdr, dyn = endian + "IIIIIIIIII", endian + "iI"
    sections = [struct.unpack_from(shdr, elf, shoff + i * shentsize) for i in range(shnum)]
    names = []
    for sec in sections:
        if sec[1] != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[sec[6]][4]
        step = struct.calcsize(dyn)
        for k in range(sec[5] // step):
            tag, val = struct.unpack_from(dyn, elf, sec[4] + k * step)
            if tag == 0:
                break
            if tag == 1:  # DT_NEEDED
                names.append(_cstr(elf, strtab + val))
    return names


def direct_imports(path: str) -> list[str]:
    """Base names of the libraries ``path`` links against directly."""
    with open(path, "rb") as f:
        is_elf = f.read(4) == b"\x7fELF"
    if is_elf:
        return elf_needed(path)
    from PyInstaller.depend import bindepend  # PE (pefile) and Mach-O (macholib) readers

    return [os.path.basename(norm(name)) for name, _ in bindepend.get_imports(path)]


# --- pruning ----------------------------------------------------------------------------

def prune_unlinked(binaries: list[Entry], is_root: Callable[[str, str], bool],
                   exclude: Callable[[str], bool] = lambda dest: False) -> list[Entry]:
    """Keep the roots and what they link against, transitively, minus ``exclude``d ones.

    Roots are what gets loaded by path or by name at run time (extension modules, Qt
    plugins, the Python library). An excluded library is dropped, and so is whatever only
    it needed. SYMLINK entries are passed through (see ``drop_dangling_symlinks``).
    """
    entries = [e for e in binaries if e[2] != "SYMLINK" and not exclude(e[0])]
    index: dict[str, list[Entry]] = {}
    for e in entries:
        index.setdefault(os.path.basename(norm(e[0])).lower(), []).append(e)
    keep: set[str] = set()
    stack = [e for e in entries if is_root(e[0], e[2])]
    while stack:
        dest, src, _ = stack.pop()
        if dest in keep:
            continue
        keep.add(dest)
        for name in direct_imports(src):
            stack += index.get(name.lower(), [])
    return [e for e in binaries if e[2] == "SYMLINK" or e[0] in keep]


def drop_dangling_symlinks(toc: Iterable[Entry], dropped: set[str]) -> list[Entry]:
    """Remove SYMLINK entries (PyInstaller lists them among the datas) to dropped files."""
    out = []
    for dest, src, typecode in toc:
        if typecode == "SYMLINK":
            target = norm(os.path.normpath(os.path.join(os.path.dirname(norm(dest)), src)))
            if target in dropped:
                continue
        out.append((dest, src, typecode))
    return out


# --- ICU data ---------------------------------------------------------------------------

_ICU_LOCALE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]+)*")
ICU_KEEP_LOCALES = {"root", "en", "en_US", "en_US_POSIX", "en_001", "en_150", "en_GB"}


def keep_icu_item(name: str) -> bool:
    """Which items of ICU's data package a Qt widgets app keeps.

    Qt formats numbers, dates and locale names from its own CLDR tables; it asks ICU for
    collation (QCollator, e.g. file dialog sorting), case mapping, IDNA (QUrl), break
    rules, time-zone data and non-Unicode codecs (QStringConverter). Kept: every non-locale
    item (normalisation, IDNA, UCA, break rules, time zones, supplemental data, converter
    aliases) and the root/English locale data of every tree; other locales fall back to
    root (standard Unicode collation order, English time-zone names). Dropped: the other
    locales, the table-based legacy codepages (*.cnv; UTF-8/16/32, Latin-1 and ASCII are
    built into ICU's code), the CJK/Thai/Khmer/Lao/Burmese word dictionaries (*.dict) and
    the transliterators.
    """
    parts = name.split("/")[1:]  # without the "icudtNNl" package name
    if not parts:
        return True
    stem, _, ext = parts[-1].rpartition(".")
    if ext in ("cnv", "dict") or parts[0] == "translit":
        return False
    if ext == "res" and _ICU_LOCALE.fullmatch(stem):
        return stem in ICU_KEEP_LOCALES
    return True


def _cstr(buf: bytes | bytearray, off: int) -> str:
    return bytes(buf[off:buf.index(b"\0", off)]).decode("ascii")


def trim_icu_common_data(blob: bytes, keep: Callable[[str], bool] = keep_icu_item) -> bytes:
    """Rewrite an ICU "common data" package (format CmnD) with only the ``keep`` items.

    Layout: a data header, then ``count`` and ``count`` (name offset, data offset) pairs
    relative to the table, the NUL-terminated names (sorted: ICU binary-searches them),
    then the items, each 16-byte aligned.
    """
    header_size = struct.unpack_from("<H", blob, 0)[0]
    if blob[2:4] != b"\xda\x27" or blob[12:16] != b"CmnD" or blob[8] != 0:
        raise ValueError("not little-endian ICU common data")
    table = blob[header_size:]
    count = struct.unpack_from("<I", table, 0)[0]
    entries = [struct.unpack_from("<II", table, 4 + 8 * i) for i in range(count)]
    ends = [offset for _, offset in entries[1:]] + [len(table)]
    kept = [(_cstr(table, n), table[start:end])
            for (n, start), end in zip(entries, ends, strict=True) if keep(_cstr(table, n))]
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in kept)
    head_size = 4 + 8 * len(kept) + len(names)
    head_size += -head_size % 16
    pairs, items, name_offset = [], bytearray(), 4 + 8 * len(kept)
    for name, data in kept:
        pairs.append(struct.pack("<II", name_offset, head_size + len(items)))
        name_offset += len(name) + 1
        items += data + bytes(-len(data) % 16)
    head = struct.pack("<I", len(kept)) + b"".join(pairs) + names
    return blob[:header_size] + head + bytes(head_size - len(head)) + bytes(items)


_PAGE = 0x1000
# d_tag values whose value is an address: DT_PLTGOT, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_RELA,
# DT_INIT, DT_FINI, DT_REL, DT_JMPREL, DT_INIT_ARRAY, DT_FINI_ARRAY, DT_GNU_HASH, DT_VERSYM,
# DT_VERDEF, DT_VERNEED
_ADDR_TAGS = {3, 4, 5, 6, 7, 12, 13, 17, 23, 25, 26, 0x6FFFFEF5, 0x6FFFFFF0, 0x6FFFFFFC,
              0x6FFFFFFE}
_SHDR, _PHDR, _SYM, _DYN = "<IIQQQQIIQQ", "<IIQQQQQQ", "<IBBHQQ", "<qQ"


def rewrite_elf_data_symbol(elf: bytes, symbol: str,
                            transform: Callable[[bytes], bytes]) -> bytes:
    """Replace the bytes of ``symbol`` in a data-only little-endian ELF64 shared object.

    The symbol must fill its section (as ``icudtNN_dat`` fills libicudata's .rodata) and
    the new contents must be smaller. The section shrinks by whole pages and everything
    behind it (sections, segments, dynamic entries, symbols, the section header table)
    moves up by as much, so all alignment and offset/address congruences still hold.
    Raises ValueError on any layout it was not written for (code, relocations...).
    """
    elf = bytearray(elf)
    if elf[:6] != b"\x7fELF\x02\x01" or struct.unpack_from("<H", elf, 16)[0] != 3:
        raise ValueError("not a little-endian ELF64 shared object")
    phoff, shoff = struct.unpack_from("<QQ", elf, 32)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", elf, 54)
    sections = [list(struct.unpack_from(_SHDR, elf, shoff + i * shentsize))
                for i in range(shnum)]
    for sec in sections:
        name = _cstr(elf, sections[shstrndx][4] + sec[0])
        # RELA/REL sections, or anything executable, or writable other than .dynamic
        if sec[1] in (4, 9) or (sec[2] & 4 and sec[5]) or (sec[2] & 1 and name != ".dynamic"):
            raise ValueError(f"unexpected section {name}")
    found = set()
    for sec in sections:
        if sec[1] in (2, 11):  # SYMTAB, DYNSYM
            for k in range(sec[5] // 24):
                st = struct.unpack_from(_SYM, elf, sec[4] + 24 * k)
                if _cstr(elf, sections[sec[6]][4] + st[0]) == symbol:
                    found.add(st[3:])
    if len(found) != 1:
        raise ValueError(f"no single definition of {symbol}")
    shndx, value, size = found.pop()
    sec = sections[shndx]
    if (sec[1], sec[3], sec[5]) != (1, value, size):  # PROGBITS filled by the symbol
        raise ValueError(f"{symbol} does not fill its section")
    start, end, end_addr = sec[4], sec[4] + size, value + size
    data = transform(bytes(elf[start:end]))
    new_size = len(data) + (size - len(data)) % _PAGE
    delta = new_size - size  # zero or a negative multiple of the page size
    if delta >= 0:
        return bytes(elf)
    out = elf[:start] + data + bytes(new_size - len(data)) + elf[end:]

    def moved(x: int, limit: int) -> int:
        return x + delta if x >= limit else x

    new_shoff = moved(shoff, end)
    struct.pack_into("<Q", out, 40, new_shoff)
    for i, s in enumerate(sections):
        if i == shndx:
            s[5] = new_size
        else:
            s[4] = moved(s[4], end)
            if s[2] & 2:  # SHF_ALLOC
                s[3] = moved(s[3], end_addr)
        struct.pack_into(_SHDR, out, new_shoff + i * shentsize, *s)
    for i in range(phnum):
        p = list(struct.unpack_from(_PHDR, out, phoff + i * phentsize))
        if p[2] <= start and end <= p[2] + p[5]:  # the segment holding the data
            p[5] += delta
            p[6] += delta
        elif p[2] >= end:
            p[2:5] = [p[2] + delta, p[3] + delta, p[4] + delta]
        elif p[2] + p[5] > start:
            raise ValueError("a segment overlaps the data partly")
        struct.pack_into(_PHDR, out, phoff + i * phentsize, *p)
    for s in sections:
        if s[1] == 6:  # DYNAMIC
            for k in range(s[5] // 16):
                tag, val = struct.unpack_from(_DYN, out, s[4] + 16 * k)
                if tag in _ADDR_TAGS:
                    struct.pack_into(_DYN, out, s[4] + 16 * k, tag, moved(val, end_addr))
        elif s[1] in (2, 11):
            for k in range(s[5] // 24):
                st = list(struct.unpack_from(_SYM, out, s[4] + 24 * k))
                if st[3] == shndx and st[4] == value and st[5] == size:
                    st[5] = new_size
                elif 0 < st[3] < 0xFF00:  # defined in a section, not ABS/COMMON
                    st[4] = moved(st[4], end_addr)
                struct.pack_into(_SYM, out, s[4] + 24 * k, *st)
    return bytes(out)


def trim_icu_library(src: str, dst: str) -> tuple[int, int]:
    """Write a trimmed copy of ``libicudata.so.NN``; returns (old size, new size)."""
    m = re.match(r"libicudata\.so\.(\d+)", os.path.basename(src))
    if not m:
        raise ValueError(f"not an ICU data library: {src}")
    with open(src, "rb") as f:
        elf = f.read()
    new = rewrite_elf_data_symbol(elf, f"icudt{m.group(1)}_dat", trim_icu_common_data)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "wb") as f:
        f.write(new)
    os.chmod(dst, 0o755)
    return len(elf), len(new)


def strip_copy(src: str, dst: str, strip: str = "strip") -> tuple[int, int]:
    """Write ``src`` without its symbol tables to ``dst``; returns (old size, new size).

    Only for binaries built the ordinary way (CPython's own libpython and lib-dynload
    modules): ``strip`` corrupts libraries that auditwheel rewrote with patchelf (numpy's
    bundled OpenBLAS: "ELF load command address/offset not page-aligned"), which is why
    PyInstaller's blanket ``strip=True`` is not used.
    """
    import shutil
    import subprocess

    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o755)
    subprocess.run([strip, "--strip-unneeded", dst], check=True, capture_output=True)
    return os.path.getsize(src), os.path.getsize(dst)
