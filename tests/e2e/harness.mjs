// harness.mjs — what the e2e cases stand on: free loopback ports, temporary directories, the
// server under test started and stopped by PID, a test CA trusted by the browser profile, the
// page server and headless Chromium kept off the network.  Every wait has a time limit.
import { spawn, execFile } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Rejects after ms with an error naming what did not happen.
export function within(promise, ms, what) {
    let timer;
    const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs a program with a time limit; resolves with its stdout, rejects with its stderr.
export function run(file, args, { timeoutMs = 10000, env } = {}) {
    return new Promise((resolve, reject) => {
        execFile(file, args, { timeout: timeoutMs, env: env || process.env }, (err, stdout, stderr) => {
            if (err)
                reject(new Error(`${file} ${args.join(' ')}: ${err.message.trim()}\n${stderr}`));
            else
                resolve(stdout);
        });
    });
}

// ---- ports and directories -----------------------------------------------------------------
function tryBind(port) {
    return new Promise((resolve) => {
        const tcp = createTcpServer();
        tcp.once('error', () => resolve(0));
        tcp.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
            const got = tcp.address().port;
            const udp = createSocket('udp4');
            udp.once('error', () => { udp.close(); tcp.close(() => resolve(0)); });
            udp.bind(got, '127.0.0.1', () => udp.close(() => tcp.close(() => resolve(got))));
        });
    });
}

// A port free for both TCP and UDP on 127.0.0.1 at the time of the call, outside the relay
// range (49152-65535) so that a relay port never lands on it.
export async function freePort() {
    for (let i = 0; i < 200; i++) {
        const port = await tryBind(0);
        if (port && port < 49152)
            return port;
        const pick = 20000 + Math.floor(Math.random() * 20000);
        if (await tryBind(pick))
            return pick;
    }
    throw new Error('no free loopback port found');
}

// One temporary root for the run; everything below it goes when the run ends.
export async function tempRoot() {
    return mkdtemp(join(tmpdir(), 'turnpike-e2e-'));
}

export async function removeTree(dir) {
    if (dir && !process.env.E2E_KEEP)
        await rm(dir, { recursive: true, force: true });
}

// ---- the server under test -----------------------------------------------------------------
export function serverPath() {
    return process.env.TURNPIKE_SERVER ? resolve(process.env.TURNPIKE_SERVER) : join(ROOT, 'build', 'turnserver');
}

const children = new Set();
process.on('exit', () => {
    for (const child of children)
        try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
});

// Starts the server in a fresh directory under root with "-n --log-file stdout
// --listening-ip 127.0.0.1 --listening-port PORT" and args, each "{tls}" in them replaced by a
// second free port; waits up to 10 s for "listening on".  Resolves with {pid, port, tlsPort,
// dir, logPath, stop()}; rejects with the log when it does not come up.
export async function startServer(root, name, args) {
    const bin = serverPath();
    if (!existsSync(bin))
        throw new Error(`${bin} not found: run make first`);
    const dir = await mkdtemp(join(root, `${name}-`));
    const port = await freePort();
    let tlsPort = 0;
    if (args.some((a) => a.includes('{tls}'))) {
        do tlsPort = await freePort(); while (tlsPort === port);
    }
    const argv = ['-n', '--log-file', 'stdout', '--listening-ip', '127.0.0.1',
                  '--listening-port', String(port),
                  ...args.map((a) => a.replaceAll('{tls}', String(tlsPort)))];
    const logPath = join(dir, 'turnserver.log');
    const fd = openSync(logPath, 'a');
    const child = spawn(bin, argv, { cwd: dir, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    children.add(child);
    let exited = null;
    const exit = new Promise((resolve) => {
        child.on('exit', (code, signal) => { exited = { code, signal }; children.delete(child); resolve(exited); });
    });
    const log = () => readFileSync(logPath, 'utf8');
    const srv = { pid: child.pid, port, tlsPort, dir, argv, log };

    // Sends sig, waits up to 5 s, then SIGKILL.  Resolves with {status, log, stats}.
    srv.stop = async () => {
        if (!exited) {
            child.kill('SIGTERM');
            try {
                await within(exit, 5000, `turnserver ${child.pid} to exit after SIGTERM`);
            } catch {
                child.kill('SIGKILL');
                await within(exit, 5000, `turnserver ${child.pid} to die of SIGKILL`);
                exited.killed = true;
            }
        }
        const text = log();
        return { exit: exited, log: text, stats: parseStats(text) };
    };

    const deadline = Date.now() + 10000;
    while (!log().includes('listening on')) {
        if (exited || Date.now() > deadline) {
            await srv.stop();
            throw new Error(`turnserver ${argv.join(' ')} did not come up` +
                            (exited ? ` (exit ${exited.code ?? exited.signal})` : ' in 10 s') +
                            `; its log:\n${log()}`);
        }
        await sleep(20);
    }
    return srv;
}

// The counters of the server's closing "stats:" lines, as {name: number}.
export function parseStats(log) {
    const out = {};
    for (const line of log.split('\n').filter((l) => l.includes(' stats: ')))
        for (const m of line.matchAll(/ ([a-z_.0-9]+)=(\d+)/g))
            out[m[1]] = Number(m[2]);
    return out;
}

// ---- certificates --------------------------------------------------------------------------
// A fresh CA and a server certificate for 127.0.0.1 signed by it, made in dir by the project's
// etc/make-test-certs.sh (openssl, ECDSA P-256, valid two days).
export async function makeCerts(dir) {
    await run('sh', [join(ROOT, 'etc', 'make-test-certs.sh'), dir], { timeoutMs: 20000 });
    const f = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
    for (const path of Object.values(f))
        if (!existsSync(path))
            throw new Error(`etc/make-test-certs.sh made no ${path}`);
    return f;
}

// Makes home/.pki/nssdb, the NSS database Debian's Chromium reads its trust settings from
// (under $HOME, not the profile), and adds ca to it as trusted to issue server certificates.
export async function trustCa(home, ca) {
    const db = join(home, '.pki', 'nssdb');
    await mkdir(db, { recursive: true });
    await run('certutil', ['-d', `sql:${db}`, '-N', '--empty-password']);
    await run('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'turnpike e2e test CA', '-i', ca]);
    const listed = await run('certutil', ['-d', `sql:${db}`, '-L']);
    if (!/turnpike e2e test CA\s+C,,/.test(listed))
        throw new Error(`the test CA is not listed as trusted in ${db}:\n${listed}`);
}

// ---- the page and the browser --------------------------------------------------------------
// Serves page.html and page.js on a free loopback port.  Resolves with {url, close()}.
export async function servePage() {
    const files = { '/': 'page.html', '/page.html': 'page.html', '/page.js': 'page.js' };
    const types = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8' };
    const server = createHttpServer(async (req, res) => {
        const name = files[req.url];
        if (!name) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { 'content-type': types[name.split('.').pop()], 'cache-control': 'no-store' });
        res.end(await readFile(join(HERE, name)));
    });
    await within(new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
    }), 5000, 'the page server to listen');
    return { url: `http://127.0.0.1:${server.address().port}/page.html`,
             close: () => new Promise((resolve) => server.close(resolve)) };
}

// Chromium flags: headless, a fresh profile, no network of its own (no background
// networking, component updates, sync, QUIC or DNS), and loopback allowed for WebRTC.
export const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-extensions',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
];

// Launches Chromium with a fresh profile under root and HOME=root/home (whose NSS database
// trusts the test CA).  Resolves with a Playwright BrowserContext.
export async function launchBrowser(root, home) {
    if (!existsSync(CHROMIUM))
        throw new Error(`${CHROMIUM} not found: apt-get install chromium`);
    let chromium;
    try {
        ({ chromium } = await import('playwright-core'));
    } catch (err) {
        throw new Error(`playwright-core is not installed (run npm ci in tests/e2e): ${err.message}`);
    }
    const profile = join(root, 'profile');
    await mkdir(profile, { recursive: true });
    return chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: 30000,
        env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'),
               XDG_CACHE_HOME: join(home, '.cache') },
    });
}
