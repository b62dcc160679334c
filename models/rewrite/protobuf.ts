// The protobuf wire format, no schema: enough to take an ONNX file apart and put it back together
// with every field the rewrites do not touch kept as it was (a schema-driven codec would drop
// the fields it does not declare).

export type Field =
  | { num: number; wire: 'varint'; value: bigint }
  | { num: number; wire: 'bytes'; value: Uint8Array }
  | { num: number; wire: 'fixed32' | 'fixed64'; value: Uint8Array };

export class ProtobufError extends Error {}

const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export function decodeFields(buf: Uint8Array): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length) throw new ProtobufError('truncated varint');
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      if (shift > 63n) throw new ProtobufError('varint longer than 10 bytes');
    }
  };
  const take = (n: number): Uint8Array => {
    if (pos + n > buf.length) throw new ProtobufError('truncated field');
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const num = key >>> 3;
    switch (key & 7) {
      case WIRE.varint:
        fields.push({ num, wire: 'varint', value: varint() });
        break;
      case WIRE.fixed64:
        fields.push({ num, wire: 'fixed64', value: take(8) });
        break;
      case WIRE.bytes:
        fields.push({ num, wire: 'bytes', value: take(Number(varint())) });
        break;
      case WIRE.fixed32:
        fields.push({ num, wire: 'fixed32', value: take(4) });
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${key & 7} in field ${num}`);
    }
  }
  return fields;
}

function varintBytes(v: bigint): number[] {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return out;
}

export function encodeFields(fields: readonly Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (part: Uint8Array) => {
    parts.push(part);
    size += part.length;
  };
  for (const f of fields) {
    push(Uint8Array.from(varintBytes(BigInt((f.num << 3) | WIRE[f.wire]))));
    if (f.wire === 'varint') push(Uint8Array.from(varintBytes(f.value)));
    else {
      if (f.wire === 'bytes') push(Uint8Array.from(varintBytes(BigInt(f.value.length))));
      push(f.value);
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const utf8 = {
  decode: (b: Uint8Array): string => new TextDecoder().decode(b),
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
};

export function stringField(num: number, s: string): Field {
  return { num, wire: 'bytes', value: utf8.encode(s) };
}

export function intField(num: number, v: number): Field {
  return { num, wire: 'varint', value: BigInt(v) };
}

/** Packed repeated varints (proto3's default for repeated scalars), or unpacked ones, as numbers. */
export function readInts(fields: readonly Field[], num: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.num !== num) continue;
    if (f.wire === 'varint') out.push(Number(BigInt.asIntN(64, f.value)));
    else if (f.wire === 'bytes') {
      for (const g of decodePackedVarints(f.value)) out.push(Number(BigInt.asIntN(64, g)));
    }
  }
  return out;
}

function decodePackedVarints(buf: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let value = 0n;
  let shift = 0n;
  for (const b of buf) {
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) {
      out.push(value);
      value = 0n;
      shift = 0n;
    } else shift += 7n;
  }
  return out;
}

export function packedInts(num: number, values: readonly number[]): Field {
  return { num, wire: 'bytes', value: Uint8Array.from(values.flatMap((v) => varintBytes(BigInt(v)))) };
}

export function readString(fields: readonly Field[], num: number): string | undefined {
  const f = fields.find((x) => x.num === num);
  return f && f.wire === 'bytes' ? utf8.decode(f.value) : undefined;
}

export function readStrings(fields: readonly Field[], num: number): string[] {
  return fields.flatMap((f) => (f.num === num && f.wire === 'bytes' ? [utf8.decode(f.value)] : []));
}
