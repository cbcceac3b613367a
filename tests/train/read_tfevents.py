"""An independent reader of TensorBoard event files (TFRecord framing + the Event/Summary protobuf
fields mimic writes), using only the Python standard library. Checks both masked CRC-32C values of
every record and prints one line per scalar: `<step> <tag> <value>`. Exit status 1 on a bad file.
"""
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def fields(buf):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 1:
            v = buf[i:i + 8]
            i += 8
        elif wire == 2:
            n, i = varint(buf, i)
            v = buf[i:i + n]
            i += n
        elif wire == 5:
            v = buf[i:i + 4]
            i += 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield field, wire, v


def main(path):
    data = open(path, "rb").read()
    i = records = 0
    version = None
    while i < len(data):
        if i + 12 > len(data):
            raise ValueError("truncated record header at byte %d" % i)
        header = data[i:i + 8]
        (n,) = struct.unpack("<Q", header)
        (len_crc,) = struct.unpack("<I", data[i + 8:i + 12])
        if masked(header) != len_crc:
            raise ValueError("bad length CRC at byte %d" % i)
        payload = data[i + 12:i + 12 + n]
        (data_crc,) = struct.unpack("<I", data[i + 12 + n:i + 16 + n])
        if masked(payload) != data_crc:
            raise ValueError("bad data CRC at byte %d" % i)
        i += 16 + n
        records += 1
        step = 0
        for field, wire, v in fields(payload):
            if field == 2 and wire == 0:
                step = v
            elif field == 3 and wire == 2:
                version = v.decode()
            elif field == 5 and wire == 2:
                for f2, w2, value in fields(v):
                    if f2 != 1:
                        continue
                    tag, simple = None, None
                    for f3, w3, x in fields(value):
                        if f3 == 1:
                            tag = x.decode()
                        elif f3 == 2 and w3 == 5:
                            (simple,) = struct.unpack("<f", x)
                    print("%d %s %r" % (step, tag, simple))
    if version != "brain.Event:2":
        raise ValueError("missing file_version event")
    print("records %d" % records)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # noqa: BLE001
        print("error: %s" % e, file=sys.stderr)
        sys.exit(1)
