#!/usr/bin/env python3
"""Writes the fuzzing seed corpora under tests/fuzz/corpus/NAME/: a few small
valid files per parser (and the WAV format fixtures), so a campaign starts
from inputs that pass the first checks. Deterministic; run from the
repository root:  python3 tests/fuzz/make_seeds.py"""
import json
import math
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')


KINDS = ('safetensors', 'csv', 'wav', 'y4m', 'pnm', 'npy')   # cache: make_cache_seeds.c


def put(kind, name, data):
    assert kind in KINDS
    os.makedirs(os.path.join(ROOT, kind), exist_ok=True)
    with open(os.path.join(ROOT, kind, name), 'wb') as f:
        f.write(data)


def safetensors(tensors, meta=None):
    header, blob = {}, b''
    if meta is not None:
        header['__metadata__'] = meta
    for name, shape, values in tensors:
        raw = struct.pack('<%df' % len(values), *values)
        header[name] = {'dtype': 'F32', 'shape': shape, 'data_offsets': [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-(8 + len(text)) % 8)
    return struct.pack('<Q', len(text)) + text + blob


def wav(samples, rate, channels=1, bits=16, fmt=1, extra_chunks=b''):
    if fmt == 3:
        data = struct.pack('<%df' % len(samples), *samples)
    elif bits == 8:
        data = bytes(int(128 + 127 * s) for s in samples)
    else:
        data = struct.pack('<%dh' % len(samples), *(int(32767 * s) for s in samples))
    block = channels * bits // 8
    fmt_chunk = struct.pack('<HHIIHH', fmt, channels, rate, rate * block, block, bits)
    body = b'WAVE' + b'fmt ' + struct.pack('<I', 16) + fmt_chunk + extra_chunks
    body += b'data' + struct.pack('<I', len(data)) + data + (b'\0' if len(data) % 2 else b'')
    return b'RIFF' + struct.pack('<I', len(body)) + body


def y4m(w, h, chroma, frames, tags=''):
    sub = {'420jpeg': (2, 2), '420mpeg2': (2, 2), '420paldv': (2, 2), '422': (2, 1), '444': (1, 1), 'mono': None}[chroma]
    out = ('YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C%s%s\n' % (w, h, chroma, tags)).encode()
    for k in range(frames):
        planes = bytes((x * 7 + k * 31) & 255 for x in range(w * h))
        if sub:
            cw, ch = (w + sub[0] - 1) // sub[0], (h + sub[1] - 1) // sub[1]
            planes += bytes(128 for _ in range(2 * cw * ch))
        out += b'FRAME\n' + planes
    return out


def npy(rows, cols, one_d=False):
    shape = '(%d,)' % cols if one_d else '(%d, %d)' % (rows, cols)
    head = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape
    head += ' ' * (-(10 + len(head) + 1) % 64) + '\n'
    values = [0.5 * i for i in range(rows * cols)]
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(head)) + head.encode() + struct.pack('<%df' % len(values), *values)


def main():
    # Only this script's own folders: other targets keep their seeds here too.
    for kind in KINDS:
        shutil.rmtree(os.path.join(ROOT, kind), ignore_errors=True)
    put('safetensors', 'two_tensors', safetensors([('fc.weight', [2, 3], [0.1 * i for i in range(6)]),
                                                   ('fc.bias', [2], [1.0, -1.0])],
                                                  {'format': 'meld-c checkpoint 1', 'model': 'gru'}))
    put('safetensors', 'scalar_and_empty', safetensors([('step', [], [3.0]), ('none', [0], [])]))
    put('safetensors', 'meta_only', safetensors([], {'config': 'task=0 func_dim=4', 'epoch': '1'}))

    csv_head = 'Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n'
    put('csv', 'meld_rows', (csv_head +
        '1,"Oh, hi!",Ross,joy,positive,0,0,1,1,"00:00:01,000","00:00:02,500"\n'
        '2,It\'s me.,Rachel,neutral,neutral,0,1,1,1,"0:00:03,82","0:00:04,100"\n'
        '3,"He said ""no""",Joey,anger,negative,1,0,2,3,00:10:00.5,00:10:01.75\r\n').encode())
    put('csv', 'cp1252_mojibake', (csv_head + '1,caf\xe9 \u00e2\u20ac\u2122,Mon,sadness,negative,2,0,1,1,'
                                   '"00:00:01,000","00:00:02,000"\n').encode('utf-8').replace(b'caf\xc3\xa9', b'caf\xe9'))
    put('csv', 'bom_reordered', b'\xef\xbb\xbf' + ('Dialogue_ID,Utterance_ID,Emotion,Sentiment,Utterance,Speaker,Sr No.,'
                                                   'Season,Episode,StartTime,EndTime\n3,1,fear,negative,"a\nb",X,1,1,1,'
                                                   '"00:00:01,000","00:00:02,000"\n').encode())

    tone = [0.5 * math.sin(2 * math.pi * 440 * i / 8000) for i in range(64)]
    put('wav', 's16_8k', wav(tone, 8000))
    put('wav', 's16_44k1_stereo', wav(tone, 44100, channels=2))
    put('wav', 'u8_22k05', wav(tone, 22050, bits=8))
    put('wav', 'f32_16k', wav(tone, 16000, bits=32, fmt=3))
    put('wav', 'list_chunk', wav(tone, 48000, extra_chunks=b'LIST' + struct.pack('<I', 12) + b'INFOISFT\0\0\0\0'))
    fixtures = os.path.join(os.path.dirname(ROOT), '..', 'fixtures', 'audio')
    for name in ('fmt_6ch_ext.wav', 'fmt_s24_ext.wav', 'fmt_f64.wav', 'fmt_chunks_s16.wav'):
        with open(os.path.join(fixtures, name), 'rb') as f:
            put('wav', name[:-4], f.read())

    for chroma in ('420jpeg', '422', '444', 'mono'):
        put('y4m', chroma, y4m(6, 4, chroma, 2))
    put('y4m', 'full_range_odd', y4m(5, 3, '420mpeg2', 1, ' XCOLORRANGE=FULL'))

    put('pnm', 'p5', b'P5\n# comment\n4 3\n255\n' + bytes(range(12)))
    put('pnm', 'p6', b'P6 2 2 255 ' + bytes(range(12)))
    put('pnm', 'p5_16bit', b'P5\n2 2\n65535\n' + bytes(range(8)))

    put('npy', 'matrix', npy(3, 4))
    put('npy', 'vector', npy(1, 5, one_d=True))
    put('npy', 'empty', npy(0, 4))


if __name__ == '__main__':
    main()
