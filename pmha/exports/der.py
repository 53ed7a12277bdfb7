"""A small BER/DER reader: just enough ASN.1 to verify a CMS SignedData (RFC 5652).

`cryptography` builds SignedData but does not verify it, so the receiving side walks the
structure here. Definite and indefinite lengths are read (OpenSSL may stream its output).
"""

from __future__ import annotations

from dataclasses import dataclass


class DerError(ValueError):
    """The bytes are not the ASN.1 structure expected."""


@dataclass(frozen=True)
class Node:
    tag: int  # the identifier octet (class, constructed bit, number < 31)
    raw: memoryview  # the whole element, header included (views: a bundle is not copied)
    body: memoryview  # the contents octets (for indefinite lengths: without end-of-contents)

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)

    def children(self) -> list[Node]:
        if not self.constructed:
            raise DerError("expected a constructed element")
        out, offset = [], 0
        while offset < len(self.body):
            node, offset = read(self.body, offset)
            out.append(node)
        return out

    def octets(self) -> bytes:
        """An OCTET STRING's value, joining the segments of a constructed (BER) one."""
        if self.tag == 0x04:
            return bytes(self.body)
        if self.tag in (0x24, 0xA0):
            return b"".join(child.octets() for child in self.children())
        raise DerError("expected an OCTET STRING")

    def oid(self) -> str:
        if self.tag != 0x06 or not self.body:
            raise DerError("expected an OBJECT IDENTIFIER")
        first, values, value = self.body[0], [], 0
        values.extend([min(first // 40, 2), first - 40 * min(first // 40, 2)])
        for byte in self.body[1:]:
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                values.append(value)
                value = 0
        return ".".join(str(v) for v in values)

    def integer(self) -> int:
        if self.tag != 0x02:
            raise DerError("expected an INTEGER")
        return int.from_bytes(bytes(self.body), "big", signed=True)


def read(data: memoryview, offset: int = 0) -> tuple[Node, int]:
    """The element starting at `offset`, and the offset after it."""
    start = offset
    if offset + 2 > len(data):
        raise DerError("truncated")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag numbers are not used in CMS")
    length = data[offset + 1]
    offset += 2
    if length == 0x80:  # indefinite: elements until end-of-contents (00 00)
        if not tag & 0x20:
            raise DerError("an indefinite length needs a constructed element")
        inner = offset
        while True:
            if bytes(data[inner : inner + 2]) == b"\x00\x00":
                return Node(tag, data[start : inner + 2], data[offset:inner]), inner + 2
            _, inner = read(data, inner)
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 8 or offset + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(bytes(data[offset : offset + count]), "big")
        offset += count
    end = offset + length
    if end > len(data):
        raise DerError("truncated")
    return Node(tag, data[start:end], data[offset:end]), end


def parse(data: bytes) -> Node:
    """The one element `data` holds (trailing bytes are refused)."""
    view = memoryview(data)
    node, end = read(view, 0)
    if end != len(view):
        raise DerError("trailing bytes after the structure")
    return node
