// Runs a meld-c ONNX model (meld export --format onnx) with ONNX Runtime on
// an inputs file (meld predict --save-inputs) and prints the outputs as
// JSON: {"emotion_probs": {"shape": [...], "data": [...]}, ...}.
//
//   node tests/onnx/onnx_run.js MODEL.onnx INPUTS.safetensors
//
// Inputs files hold float32 only (as everything meld writes); the integer
// inputs are cast here to what the graph declares: lengths to int64, face
// frames to uint8.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

// {name: {shape, data: Float32Array}} from a float32 safetensors file.
function readSafetensors(path) {
  const buf = fs.readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F32') throw new Error(`${path}: tensor ${name} is ${info.dtype}, expected F32`);
    const [begin, end] = info.data_offsets;
    const bytes = buf.subarray(8 + n + begin, 8 + n + end);
    const data = new Float32Array(bytes.length / 4);
    for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(4 * i);
    tensors[name] = {shape: info.shape, data};
  }
  return tensors;
}

function feed(name, t) {
  if (name.endsWith('_lengths')) return new ort.Tensor('int64', BigInt64Array.from(t.data, (v) => BigInt(v)), t.shape);
  if (name === 'face_frames') return new ort.Tensor('uint8', Uint8Array.from(t.data), t.shape);
  return new ort.Tensor('float32', t.data, t.shape);
}

// Runs model on the inputs file; resolves to {output name: {shape, data}}.
async function runOnnx(modelPath, inputsPath) {
  const inputs = readSafetensors(inputsPath);
  const session = await ort.InferenceSession.create(modelPath, {intraOpNumThreads: 1});
  const feeds = {};
  for (const name of session.inputNames) {
    if (!inputs[name]) throw new Error(`${inputsPath}: no input '${name}' for ${modelPath}`);
    feeds[name] = feed(name, inputs[name]);
  }
  const results = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) out[name] = {shape: results[name].dims, data: Array.from(results[name].data)};
  return out;
}

module.exports = {readSafetensors, runOnnx};

if (require.main === module) {
  const [model, inputs] = process.argv.slice(2);
  if (!model || !inputs) {
    console.error('usage: node onnx_run.js MODEL.onnx INPUTS.safetensors');
    process.exit(2);
  }
  runOnnx(model, inputs).then(
    (out) => console.log(JSON.stringify(out)),
    (err) => {
      console.error(`onnx_run: ${err.message}`);
      process.exit(1);
    });
}
