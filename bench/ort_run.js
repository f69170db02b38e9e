// Runs an ONNX model with ONNX Runtime (npm onnxruntime-node, CPU) on .npy float32 inputs.
// usage: node ort_run.js MODEL.onnx NAME=IN.npy ... --threads N --repeat N --warmup N --out OUT.npy
// Prints one JSON line: {"median_ms", "min_ms", "runs", "times_ms": [every timed run], "load_ms"
// (session creation), "max_rss_kib" (the process's peak RSS)}; writes the first output as .npy.
// Inputs: float32 ('<f4') or bool ('|b1') .npy files.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.readUInt32BE(0) !== 0x934e554d) throw new Error(path + ': not a .npy file');
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const body = buf.buffer.slice(buf.byteOffset + start + hlen, buf.byteOffset + buf.length);
  if (header.includes("'|b1'")) return new ort.Tensor('bool', new Uint8Array(body), shape);
  if (!header.includes("'<f4'")) throw new Error(path + ': only float32 and bool .npy are supported here');
  return new ort.Tensor('float32', new Float32Array(body), shape);
}

function writeNpy(path, tensor) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${tensor.dims.join(', ')}${tensor.dims.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(path, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(tensor.data.buffer)]));
}

async function main() {
  const args = process.argv.slice(2);
  const opt = { threads: 1, repeat: 5, warmup: 1, out: null };
  const feeds = {};
  let model = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--threads') opt.threads = +args[++i];
    else if (a === '--repeat') opt.repeat = +args[++i];
    else if (a === '--warmup') opt.warmup = +args[++i];
    else if (a === '--out') opt.out = args[++i];
    else if (a.includes('=')) { const [k, v] = a.split('='); feeds[k] = readNpy(v); }
    else model = a;
  }
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: opt.threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let result;
  for (let i = 0; i < opt.warmup; i++) result = await session.run(feeds);
  const times = [];
  for (let i = 0; i < opt.repeat; i++) {
    const t = process.hrtime.bigint();
    result = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const all = times.slice();
  times.sort((a, b) => a - b);
  if (opt.out) writeNpy(opt.out, result[session.outputNames[0]]);
  console.log(JSON.stringify({ median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], runs: times.length,
                               times_ms: all, load_ms: loadMs, max_rss_kib: process.resourceUsage().maxRSS }));
}
main().catch(e => { console.error('ort_run: ' + e.message); process.exit(1); });
