// Every model fixture (tests/fixtures/export/KIND.safetensors) exported to
// ONNX by the meld under test, run by ONNX Runtime on KIND.inputs.safetensors
// (two dialogues of 3 and 5 utterances in one padded batch), against
// `meld predict --inputs` on the same file: the largest difference of any
// probability must be at most 1e-5.
//
//   node tests/onnx/check_exports.js ./meld      (from the repository root)
'use strict';
const {execFileSync} = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {readSafetensors, runOnnx} = require('./onnx_run.js');

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'export');
const TOLERANCE = 1e-5;

// meld predict --json --full-precision: one [7 + 3] row per real utterance.
function meldRows(meld, model, inputs) {
  const out = execFileSync(meld, ['predict', '--model-file', model, '--json', '--full-precision', '--inputs', inputs],
                           {encoding: 'utf8'});
  return out.trim().split('\n').map((line) => {
    const r = JSON.parse(line);
    return [...Object.values(r.emotion_probs), ...Object.values(r.sentiment_probs)];
  });
}

// ONNX Runtime's outputs as the same rows: padding utterances dropped.
function onnxRows(outputs, inputs) {
  const e = outputs.emotion_probs, s = outputs.sentiment_probs;
  const lengths = inputs.dialogue_lengths ? Array.from(inputs.dialogue_lengths.data) : [e.shape[0]];
  const T = inputs.dialogue_lengths ? e.shape[1] : e.shape[0];
  const rows = [];
  lengths.forEach((n, b) => {
    for (let t = 0; t < n; t++) {
      const r = b * T + t;
      rows.push([...e.data.slice(7 * r, 7 * r + 7), ...s.data.slice(3 * r, 3 * r + 3)]);
    }
  });
  return rows;
}

async function main() {
  const meld = path.resolve(process.argv[2] || './meld');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meld-onnx-'));
  const kinds = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.expected.safetensors'))
                    .map((f) => f.replace('.expected.safetensors', '')).sort();
  let passed = 0, failed = 0;
  for (const kind of kinds) {
    const model = path.join(FIXTURES, `${kind}.safetensors`), inputs = path.join(FIXTURES, `${kind}.inputs.safetensors`);
    const onnx = path.join(dir, `${kind}.onnx`);
    try {
      execFileSync(meld, ['export', '--model-file', model, '--format', 'onnx', '--out', onnx], {stdio: 'pipe'});
      const ours = onnxRows(await runOnnx(onnx, inputs), readSafetensors(inputs));
      const theirs = meldRows(meld, model, inputs);
      if (ours.length !== theirs.length) throw new Error(`${ours.length} utterances, meld predict gave ${theirs.length}`);
      let worst = 0;
      ours.forEach((row, i) => row.forEach((v, k) => { worst = Math.max(worst, Math.abs(v - theirs[i][k])); }));
      const ok = worst <= TOLERANCE;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${kind.padEnd(15)} ${ours.length} utterances, ` +
                  `max |onnxruntime - meld predict| = ${worst.toExponential(2)}`);
      ok ? passed++ : failed++;
    } catch (err) {
      console.log(`FAIL ${kind.padEnd(15)} ${err.message.split('\n')[0]}`);
      failed++;
    }
  }
  fs.rmSync(dir, {recursive: true, force: true});
  console.log(`onnxruntime: ${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
}

main();
