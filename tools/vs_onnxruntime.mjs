// vs_onnxruntime.mjs - BitFalcon vs onnxruntime (CPU) on the same input, interleaved.
// Driven by tools/vs_onnxruntime.sh (which installs onnxruntime-node, exports the
// fp32 ONNX and writes the letterboxed input); run that instead.
//
//   node tools/vs_onnxruntime.mjs --ort DIR --input X.f32 --size S --threads N --runs N
//        --rounds R --fp32 FILE.onnx [--int8 FILE.onnx] --bitfalcon EXE --model FILE.bfm
//        --image FILE [--json-out FILE]
//
// Each round times, in a rotating order: onnxruntime on the fp32 model, on the
// int8 model (when given and its input size matches), and `bitfalcon bench`
// (one process per round: its own warm-up, then its runs) - ceil(runs/rounds)
// runs each, so load changes on a shared machine hit every side alike. Medians
// are over all rounds' runs. Wall time (process.hrtime) and process CPU time
// (process.cpuUsage: all threads) per run.
//
// onnxruntime: intraOpNumThreads = N, interOpNumThreads = 1, executionMode
// sequential, graphOptimizationLevel all; the input tensor is created once;
// timed = session.run only (network + the DFL/box decode inside the graph; no
// letterbox, no NMS). BitFalcon: end to end (letterbox + network + decode +
// NMS) and the network alone (bench's network_times_ms).
import { createRequire } from 'module';
import { spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    a[argv[i].slice(2)] = argv[i + 1];
    i++;
  }
  return a;
}

const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
};
const pct = (v, q) => {
  const s = [...v].sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  const p = q * (s.length - 1), i = Math.floor(p);
  return i + 1 < s.length ? s[i] + (p - i) * (s[i + 1] - s[i]) : s[i];
};

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const size = parseInt(a.size, 10), threads = parseInt(a.threads, 10);
  const runs = parseInt(a.runs, 10), rounds = parseInt(a.rounds || '5', 10);
  const per = Math.max(1, Math.ceil(runs / rounds));
  const require = createRequire(import.meta.url);
  const ort = require(path.join(path.resolve(a.ort), 'node_modules', 'onnxruntime-node'));

  const buf = fs.readFileSync(a.input);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  if (x.length !== 3 * size * size) throw new Error(`input ${a.input} is not 3x${size}x${size} floats`);
  const feeds = { images: new ort.Tensor('float32', x, [1, 3, size, size]) };
  const opts = {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  };

  const sides = [];
  const notes = [];
  for (const [name, file] of [['ort_fp32', a.fp32], ['ort_int8', a.int8]]) {
    if (!file) continue;
    const sess = await ort.InferenceSession.create(file, opts);
    const meta = sess.inputMetadata ? sess.inputMetadata[0] : null;
    const dims = meta && meta.shape ? meta.shape : null;
    if (dims && dims.length === 4 && typeof dims[2] === 'number' && dims[2] !== size) {
      notes.push(`${name}: ${path.basename(file)} has a fixed input of ${dims[2]}x${dims[3]}; not timed at ${size}`);
      continue;
    }
    for (let i = 0; i < 3; i++) await sess.run(feeds); // warm-up
    sides.push({ name, file, sess, wall: [], cpu: [] });
  }
  const bf = { name: 'bitfalcon', wall: [], net: [], cpu: [], info: null };

  const timeOrt = async (s) => {
    for (let i = 0; i < per; i++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await s.sess.run(feeds);
      const t1 = process.hrtime.bigint();
      const c = process.cpuUsage(c0);
      s.wall.push(Number(t1 - t0) / 1e6);
      s.cpu.push((c.user + c.system) / 1e3);
    }
  };
  const timeBf = () => {
    const r = spawnSync(a.bitfalcon, ['bench', '-m', a.model, '--size', String(size), '--threads', String(threads),
      '--runs', String(per), '--warmup', '3', '--image', a.image, '--no-layers', '--json'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bitfalcon bench failed: ${r.stderr}`);
    const j = JSON.parse(r.stdout);
    bf.wall.push(...j.times_ms);
    bf.net.push(...j.network_times_ms);
    bf.cpu.push(...j.cpu_times_ms);
    bf.info = j;
  };

  const order = [...sides.map((s) => () => timeOrt(s)), timeBf];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < order.length; k++) await order[(k + r) % order.length]();
  }

  const row = (label, w, c) => ({ label, median_ms: median(w), p90_ms: pct(w, 0.9), min_ms: Math.min(...w),
    cpu_ms: median(c), n: w.length });
  const rows = [];
  for (const s of sides) rows.push(row(`onnxruntime ${s.name === 'ort_fp32' ? 'fp32' : 'int8'} (${path.basename(s.file)})`, s.wall, s.cpu));
  rows.push(row('BitFalcon end to end (letterbox+net+decode+NMS)', bf.wall, bf.cpu));
  rows.push(row('BitFalcon network only', bf.net, bf.cpu));

  console.log(`size ${size}, threads ${threads}, ${rounds} interleaved rounds x ${per} runs per side; ` +
    `BitFalcon kernels ${bf.info.isa} (epilogue ${bf.info.requant_isa}), onnxruntime-node ${ort.env.versions ? ort.env.versions.common || '' : ''}`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`${'side'.padEnd(62)} ${'median'.padStart(8)} ${'p90'.padStart(8)} ${'min'.padStart(8)} ${'CPU/run'.padStart(8)}  (ms)`);
  for (const r of rows)
    console.log(`${r.label.padEnd(62)} ${r.median_ms.toFixed(2).padStart(8)} ${r.p90_ms.toFixed(2).padStart(8)} ` +
      `${r.min_ms.toFixed(2).padStart(8)} ${r.cpu_ms.toFixed(2).padStart(8)}`);
  const ratios = {};
  const bfE2e = rows[rows.length - 2], bfNet = rows[rows.length - 1];
  for (let i = 0; i < sides.length; i++) {
    const o = rows[i], key = sides[i].name;
    ratios[key] = {
      e2e_median: o.median_ms / bfE2e.median_ms, net_median: o.median_ms / bfNet.median_ms,
      e2e_min: o.min_ms / bfE2e.min_ms, net_min: o.min_ms / bfNet.min_ms, cpu: o.cpu_ms / bfE2e.cpu_ms,
    };
    const q = ratios[key];
    console.log(`speed-up of BitFalcon over onnxruntime ${key.slice(4)}: ${q.e2e_median.toFixed(2)}x end to end, ` +
      `${q.net_median.toFixed(2)}x network only (medians); ${q.e2e_min.toFixed(2)}x / ${q.net_min.toFixed(2)}x (minima); ` +
      `${q.cpu.toFixed(2)}x in CPU time per run`);
  }
  console.log('onnxruntime times session.run: network + DFL/box decode in the graph, no letterbox, no NMS; ' +
    'BitFalcon end to end also letterboxes the original image and runs decode + NMS.');
  if (a['json-out']) {
    fs.writeFileSync(a['json-out'], JSON.stringify({ size, threads, rounds, per_round: per, rows, ratios, notes,
      bitfalcon: { isa: bf.info.isa, requant_isa: bf.info.requant_isa, peak_gops: bf.info.peak_gops } }, null, 1));
  }
}

main().catch((e) => { console.error(`vs_onnxruntime: ${e.message || e}`); process.exit(1); });
