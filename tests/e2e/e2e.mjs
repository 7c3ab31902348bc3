// e2e.mjs — a real browser relays through turnpike: two RTCPeerConnections in one headless
// Chromium page, relay-only, connect through a turnpike started here and check every byte.
//
//   node e2e.mjs [CASE...]     all cases, or only those named; closes with "N passed, N failed"
//
// Each case starts its own server (TURNPIKE_SERVER, else build/turnserver) on free loopback
// ports in a temporary directory, drives the page, asserts from getStats() and from the
// server's closing counters, and stops the server by PID.  Each has a time limit.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CHROMIUM_ARGS, launchBrowser, makeCerts, removeTree, run, serverPath, servePage,
         startServer, tempRoot, trustCa, within } from './harness.mjs';

const CASE_MS = 40000;      // a whole case, server start and stop included
const PAGE_MS = 10000;      // one wait inside the page
const RELAY_PORTS = [49152, 65535];

// Both ways, every size the data channel has to split or not split across packets.
const SIZES = [8, 9, 64, 255, 1000, 1199, 1200, 1201, 1500, 4096, 8192, 16383, 16384, 16385, 65536];
// The transfer: 8 MiB in 16 KiB messages, then round trips.
const BULK = { count: 512, size: 16384 };
const PINGS = 20;

// ---- credentials ---------------------------------------------------------------------------
// Hex, so that no secret starts with '-' (which an option parser takes for the next option).
const secret = () => randomBytes(16).toString('hex');

// TURN REST credentials as an application server mints them (README, "use it from a browser").
function restCredentials(sharedSecret, user, ttlSeconds) {
    const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${user}`;
    const credential = createHmac('sha1', sharedSecret).update(username).digest('base64');
    return { username, credential };
}

// ---- checks --------------------------------------------------------------------------------
class Failure extends Error {}

function expect(ok, what) {
    if (!ok)
        throw new Failure(what);
}

const fmt = (c) => c ? `${c.candidateType}/${c.relayProtocol || c.protocol} ${c.address}:${c.port}` : 'none';

// The selected pair of one peer connection is relay/relay through our server with relayProtocol.
function checkPair(side, pair, relayProtocol, srv) {
    expect(pair, `peer ${side}: getStats() has no selected candidate pair`);
    expect(pair.state === 'succeeded', `peer ${side}: selected pair is ${pair.state}, not succeeded`);
    const { local, remote } = pair;
    expect(local && local.candidateType === 'relay', `peer ${side}: local candidate is ${fmt(local)}, not relay`);
    expect(remote && remote.candidateType === 'relay', `peer ${side}: remote candidate is ${fmt(remote)}, not relay`);
    expect(local.relayProtocol === relayProtocol,
           `peer ${side}: relayProtocol is ${local.relayProtocol}, not ${relayProtocol}`);
    expect(local.address === '127.0.0.1' && local.port >= RELAY_PORTS[0] && local.port <= RELAY_PORTS[1],
           `peer ${side}: relayed address ${local.address}:${local.port} is not one of turnpike's`);
    const port = relayProtocol === 'tls' ? srv.tlsPort : srv.port;
    expect(local.url && local.url.includes(`127.0.0.1:${port}`), `peer ${side}: relay candidate from ${local.url}, not our server`);
}

// After a relayed connection: both pairs relay/relay, each peer's remote candidate the other's
// relayed address, and the server's counters show two allocations and relayed packets.
function checkRelayed(r, relayProtocol, srv, end) {
    if (r.error)
        throw new Failure(`${r.error} (ICE ${r.iceA}/${r.iceB}; candidates of peer a: ` +
                          `${r.localA.map(fmt).join(', ') || 'none'}; errors: ${errorList(r)})`);
    checkPair('a', r.pairA, relayProtocol, srv);
    checkPair('b', r.pairB, relayProtocol, srv);
    const same = (x, y) => x.address === y.address && x.port === y.port;
    expect(same(r.pairA.remote, r.pairB.local) && same(r.pairB.remote, r.pairA.local),
           `the peers do not face each other's relayed address: ${fmt(r.pairA.local)} -> ` +
           `${fmt(r.pairA.remote)}, ${fmt(r.pairB.local)} -> ${fmt(r.pairB.remote)}`);
    checkServer(end, { allocations: 2, relayed: true });
    if (relayProtocol === 'tls')
        expect((end.stats['tls.handshakes'] || 0) >= 2,
               `turnserver counted ${end.stats['tls.handshakes'] || 0} TLS handshakes, not one per peer`);
}

function errorList(r) {
    const all = [...(r.a ? r.a.errors : []), ...(r.b ? r.b.errors : []), ...(r.errors || [])];
    return all.map((e) => `${e.errorCode} ${e.errorText} (${e.url})`).join('; ') || 'none';
}

function checkServer(end, { allocations, relayed, packets = 1 }) {
    expect(end.exit && end.exit.code === 0, `turnserver did not exit cleanly: ${JSON.stringify(end.exit)}`);
    const s = end.stats;
    const alloc = s['relay.allocations'] || 0;
    if (allocations)
        expect(alloc >= allocations, `turnserver counted ${alloc} allocations, fewer than ${allocations}`);
    else
        expect(alloc === 0, `turnserver counted ${alloc} allocations, expected none`);
    if (relayed) {
        expect((s['relay.to_peer'] || 0) >= packets && (s['relay.to_client'] || 0) >= packets,
               `turnserver relayed ${s['relay.to_peer'] || 0} packets to peers and ` +
               `${s['relay.to_client'] || 0} to clients, fewer than ${packets}`);
    }
}

// After a gathering that must fail on credentials: no relay candidate, a 401 reported by the
// browser for our server, and no allocation on the server.
function checkRefused(g, url, end) {
    const relays = [...g.candidates, ...g.stats].filter((c) => (c.type || c.candidateType) === 'relay');
    expect(relays.length === 0, `got a relay candidate: ${relays.map(fmt).join(', ')}`);
    const e401 = g.errors.filter((e) => e.errorCode === 401);
    expect(e401.length > 0, `the browser reported no 401 (errors: ${errorList(g)})`);
    expect(e401.every((e) => e.url === url), `401 reported for ${e401.map((e) => e.url).join(', ')}, not ${url}`);
    // The challenge to the first Allocate, then the refusal of the authenticated one.
    expect((end.stats['reply.401'] || 0) >= 2,
           `turnserver counted ${end.stats['reply.401'] || 0} 401 replies, not the challenge and the refusal`);
    checkServer(end, { allocations: 0 });
}

// The server's nonzero drop counters, for the figures line.
function drops(stats) {
    const d = Object.entries(stats).filter(([k]) => k.includes('drop'));
    return d.length ? `, dropped ${d.map(([k, v]) => `${k}=${v}`).join(' ')}` : ', none dropped';
}

// ---- running a case ------------------------------------------------------------------------
const mbit = (bytes, ms) => (bytes * 8 / 1000 / ms).toFixed(1);
const kib = (n) => `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KiB`;

// Starts the server, runs body(page, srv), stops the server and hands body's result and the
// server's end to check.  Resolves with the figures line.
async function withServer(env, name, args, body, check) {
    const srv = await startServer(env.root, name, args);
    let page = null, result, end;
    // Should the case run out of time, main() closes the page and stops the server.
    const abandon = async () => { if (page) await page.close().catch(() => {}); await srv.stop(); };
    env.live.add(abandon);
    let failure = null;
    try {
        page = await env.context.newPage();
        await within(page.goto(env.pageUrl), PAGE_MS, 'the test page to load');
        result = await body(page, srv);
    } catch (err) {
        failure = err;
    } finally {
        if (page)
            await page.close().catch(() => {});
        end = await srv.stop();
        env.live.delete(abandon);
    }
    try {
        if (failure)
            throw failure;
        return check(result, srv, end);
    } catch (err) {
        err.serverLog = end.log;
        throw err;
    }
}

const connect = (page, config, opts) =>
    within(page.evaluate(([c, o]) => window.e2e.connect(c, o), [config, { timeoutMs: PAGE_MS, ...opts }]),
           PAGE_MS * 3, 'the page to connect and exchange');
const gather = (page, config) =>
    within(page.evaluate(([c, ms]) => window.e2e.gather(c, ms), [config, PAGE_MS]),
           PAGE_MS + 5000, 'the page to gather candidates');

const relayConfig = (url, username, credential) =>
    ({ iceServers: [{ urls: url, username, credential }], iceTransportPolicy: 'relay' });

// The server arguments and the URL for one transport.
function transport(env, kind, pass) {
    const base = ['--allow-loopback-peers', '--user', `alice:${pass}`];
    if (kind === 'udp')
        return { args: base, url: (s) => `turn:127.0.0.1:${s.port}?transport=udp` };
    if (kind === 'tcp')
        return { args: base, url: (s) => `turn:127.0.0.1:${s.port}?transport=tcp` };
    const certs = kind === 'tls' ? env.certs : env.untrusted;
    return { args: [...base, '--tls-listening-port', '{tls}', '--cert', certs.cert, '--pkey', certs.key],
             url: (s) => `turns:127.0.0.1:${s.tlsPort}?transport=tcp` };
}

function summary(r) {
    const ex = r.aToB.messages + r.bToA.messages;
    return `relay/relay ${r.pairA.local.relayProtocol} ${r.pairA.local.address}:${r.pairA.local.port} <-> ` +
           `${r.pairB.local.address}:${r.pairB.local.port}, ${ex} messages (${kib(r.aToB.bytes + r.bToA.bytes)}) ` +
           `checked, channel open in ${r.openMs.toFixed(0)} ms`;
}

// A data channel through the relay over one transport, messages both ways.
function relayCase(kind) {
    const protocol = kind === 'udp' ? 'udp' : kind === 'tcp' ? 'tcp' : 'tls';
    return async (env) => {
        const pass = secret();
        const t = transport(env, kind, pass);
        return withServer(env, kind, t.args,
            (page, srv) => connect(page, relayConfig(t.url(srv), 'alice', pass), { sizes: SIZES }),
            (r, srv, end) => { checkRelayed(r, protocol, srv, end); return summary(r); });
    };
}

// Several megabytes one way, every message checked, then round trips; prints the figures.
function transferCase(kind) {
    const protocol = kind === 'udp' ? 'udp' : kind === 'tcp' ? 'tcp' : 'tls';
    return async (env) => {
        const pass = secret();
        const t = transport(env, kind, pass);
        return withServer(env, `transfer-${kind}`, t.args,
            (page, srv) => connect(page, relayConfig(t.url(srv), 'alice', pass),
                                   { sizes: [8, 1200], bulk: BULK, pings: PINGS }),
            (r, srv, end) => {
                checkRelayed(r, protocol, srv, end);
                // At least one relayed datagram per 1200 bytes carried.
                checkServer(end, { allocations: 2, relayed: true, packets: Math.floor(r.bulk.bytes / 1200) });
                const rttA = r.pairA.currentRoundTripTime;
                return `${protocol}: ${(r.bulk.bytes / 1048576).toFixed(0)} MiB in ${r.bulk.messages} messages, ` +
                       `every byte checked, ${r.bulk.ms.toFixed(0)} ms = ${mbit(r.bulk.bytes, r.bulk.ms)} Mbit/s; ` +
                       `RTT over the data channel min/median/max ${r.rtt.minMs.toFixed(2)}/` +
                       `${r.rtt.medianMs.toFixed(2)}/${r.rtt.maxMs.toFixed(2)} ms (${r.rtt.count} pings), ` +
                       `ICE check RTT ${rttA === null ? 'n/a' : (rttA * 1000).toFixed(0) + ' ms'}; ` +
                       `turnserver relayed ${end.stats['relay.to_peer']} + ${end.stats['relay.to_client']} packets` +
                       drops(end.stats);
            });
    };
}

// TURN REST credentials minted here (and by the README's openssl line, which must agree).
async function restCase(env) {
    const shared = secret();
    const { username, credential } = restCredentials(shared, 'alice', 3600);
    const viaOpenssl = (await run('sh', ['-c',
        'printf %s "$user" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64'],
        { env: { ...process.env, user: username, SECRET: shared } })).trim();
    expect(viaOpenssl === credential, `openssl minted ${viaOpenssl}, JavaScript ${credential}`);
    return withServer(env, 'rest', ['--allow-loopback-peers', '--use-auth-secret', '--static-auth-secret', shared],
        (page, srv) => connect(page, relayConfig(`turn:127.0.0.1:${srv.port}?transport=udp`, username, credential),
                               { sizes: SIZES }),
        (r, srv, end) => { checkRelayed(r, 'udp', srv, end); return `user ${username}: ${summary(r)}`; });
}

// Gathering that the server must refuse with 401.
function refusedCase(name, args, username, credential, what) {
    return async (env) => {
        let url;
        return withServer(env, name, ['--allow-loopback-peers', ...args],
            (page, srv) => {
                url = `turn:127.0.0.1:${srv.port}?transport=udp`;
                return gather(page, relayConfig(url, username, credential));
            },
            (g, srv, end) => {
                checkRefused(g, url, end);
                const e = g.errors.find((x) => x.errorCode === 401);
                return `${what}: no relay candidate, the browser reported ${e.errorCode} "${e.errorText}" for ${e.url}`;
            });
    };
}

function expiredCase(env) {
    const shared = secret();
    const { username, credential } = restCredentials(shared, 'alice', -60);
    return refusedCase('rest-expired', ['--use-auth-secret', '--static-auth-secret', shared],
                       username, credential, `user ${username} (expired 60 s ago)`)(env);
}

function wrongPasswordCase(env) {
    return refusedCase('wrong-password', ['--user', `alice:${secret()}`], 'alice', secret(),
                       'alice with a wrong password')(env);
}

// A turns: server whose certificate comes from a CA the profile does not trust: the browser
// must refuse it (so the tls case is not passing by ignoring certificates).
async function untrustedCase(env) {
    const pass = secret();
    const t = transport(env, 'untrusted', pass);
    let url;
    return withServer(env, 'tls-untrusted', t.args,
        (page, srv) => { url = t.url(srv); return gather(page, relayConfig(url, 'alice', pass)); },
        (g, srv, end) => {
            const relays = [...g.candidates, ...g.stats].filter((c) => (c.type || c.candidateType) === 'relay');
            expect(relays.length === 0, `got a relay candidate through an untrusted certificate: ${relays.map(fmt).join(', ')}`);
            const e = g.errors.find((x) => x.url === url);
            expect(e, `the browser reported no error for ${url} (errors: ${errorList(g)})`);
            expect((end.stats['tcp.accepted'] || 0) >= 1, `the browser never connected to the TLS port`);
            expect(!end.stats['tls.handshakes'], `turnserver counted ${end.stats['tls.handshakes']} TLS handshakes`);
            checkServer(end, { allocations: 0 });
            return `no relay candidate, no TLS handshake completed, the browser reported ${e.errorCode} "${e.errorText}"`;
        });
}

// A stun: entry: the browser gathers a server-reflexive candidate from our Binding answer.
async function stunCase(env) {
    let url;
    return withServer(env, 'stun', ['--user', `alice:${secret()}`],
        (page, srv) => {
            url = `stun:127.0.0.1:${srv.port}`;
            return gather(page, { iceServers: [{ urls: url }] });
        },
        (g, srv, end) => {
            const srflx = g.stats.filter((c) => c.candidateType === 'srflx');
            expect(srflx.length > 0, `no srflx candidate in getStats() (candidates: ${g.stats.map(fmt).join(', ')}; ` +
                                     `errors: ${errorList(g)})`);
            const ours = srflx.filter((c) => c.url === url);
            expect(ours.length > 0, `srflx candidates came from ${srflx.map((c) => c.url).join(', ')}, not ${url}`);
            // On loopback the reflexive address is the browser's own socket: 127.0.0.1 and the
            // port of one of its host candidates.
            const hostPorts = new Set(g.stats.filter((c) => c.candidateType === 'host').map((c) => c.port));
            expect(ours.every((c) => c.address === '127.0.0.1' && hostPorts.has(c.port)),
                   `srflx ${ours.map(fmt).join(', ')} is not a host socket's address (host ports ${[...hostPorts].join(', ')})`);
            expect((end.stats.binding || 0) >= 1, `turnserver counted no Binding request: ${JSON.stringify(end.stats)}`);
            checkServer(end, { allocations: 0 });
            return `srflx ${ours.map((c) => `${c.address}:${c.port}`).join(', ')} from ${url}; ` +
                   `turnserver answered ${end.stats.binding} Binding requests`;
        });
}

const CASES = [
    { name: 'udp', about: 'turn:…?transport=udp, user and password', run: relayCase('udp') },
    { name: 'tcp', about: 'turn:…?transport=tcp, user and password', run: relayCase('tcp') },
    { name: 'tls', about: 'turns:…?transport=tcp, certificate from the test CA', run: relayCase('tls') },
    { name: 'tls-untrusted', about: 'turns: with a certificate from a CA the browser does not trust', run: untrustedCase },
    { name: 'rest', about: 'TURN REST credentials (expiry:user, HMAC-SHA1)', run: restCase },
    { name: 'rest-expired', about: 'TURN REST credentials that expired', run: expiredCase },
    { name: 'wrong-password', about: 'a wrong password', run: wrongPasswordCase },
    { name: 'stun', about: 'a stun: entry, server-reflexive candidate', run: stunCase },
    { name: 'transfer-udp', about: '8 MiB through the relay over UDP', run: transferCase('udp') },
    { name: 'transfer-tcp', about: '8 MiB through the relay over TCP', run: transferCase('tcp') },
    { name: 'transfer-tls', about: '8 MiB through the relay over TLS', run: transferCase('tls') },
];

// ---- main ----------------------------------------------------------------------------------
async function setUp() {
    const root = await tempRoot();
    const env = { root, live: new Set() };
    try {
        env.certs = await makeCerts(join(root, 'ca'));
        // Another CA, made the same way (even its name is the same) but never trusted.
        env.untrusted = await makeCerts(join(root, 'untrusted-ca'));
        const home = join(root, 'home');
        await mkdir(home, { recursive: true });
        await trustCa(home, env.certs.ca);
        env.pageServer = await servePage();
        env.pageUrl = env.pageServer.url;
        env.context = await launchBrowser(root, home);
        env.version = env.context.browser() ? env.context.browser().version() : '';
    } catch (err) {
        env.error = err;
    }
    return env;
}

async function tearDown(env) {
    if (env.context)
        await within(env.context.close(), 10000, 'Chromium to close').catch((e) => console.log(`  ${e.message}`));
    if (env.pageServer)
        await env.pageServer.close();
    await removeTree(env.root);
}

async function main() {
    const names = process.argv.slice(2);
    const unknown = names.filter((n) => !CASES.some((c) => c.name === n));
    if (unknown.length) {
        console.log(`unknown case ${unknown.join(', ')}; cases: ${CASES.map((c) => c.name).join(' ')}`);
        console.log('0 passed, 1 failed');
        process.exit(1);
    }
    const cases = names.length ? CASES.filter((c) => names.includes(c.name)) : CASES;
    const started = Date.now();
    const env = await setUp();
    let passed = 0, failed = 0;
    if (env.error) {
        console.log(`FAIL set-up: ${env.error.message}`);
        console.log(`  every case fails: ${cases.map((c) => c.name).join(' ')}`);
        failed = cases.length;
    } else {
        console.log(`server ${serverPath()}${process.env.TURNPIKE_SANITIZED === '1' ? ' (ASan+UBSan build)' : ''}`);
        console.log(`Chromium ${env.version} (${CHROMIUM_ARGS.join(' ')}), page ${env.pageUrl}`);
        for (const c of cases) {
            const t0 = Date.now();
            try {
                const figures = await within(c.run(env), CASE_MS, `case ${c.name}`);
                console.log(`ok   ${c.name.padEnd(15)} ${((Date.now() - t0) / 1000).toFixed(1)} s  ${figures}`);
                passed++;
            } catch (err) {
                for (const abandon of env.live)
                    await abandon().catch((e) => console.log(`  cleaning up: ${e.message}`));
                env.live.clear();
                console.log(`FAIL ${c.name.padEnd(15)} ${((Date.now() - t0) / 1000).toFixed(1)} s  ${c.about}: ` +
                            `${err instanceof Failure ? '' : '(error) '}${err.message}`);
                if (err.serverLog)
                    console.log(err.serverLog.trimEnd().split('\n').slice(-15).map((l) => `    | ${l}`).join('\n'));
                failed++;
            }
        }
    }
    await tearDown(env);
    console.log(`e2e: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
}

main().catch((err) => {
    console.log(`FAIL e2e driver: ${err.stack || err}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
});
