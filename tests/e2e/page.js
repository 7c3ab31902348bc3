// page.js — the in-page half of the e2e tests: RTCPeerConnections that signal to each other
// inside this page, data channels whose every byte is checked, and what getStats() says.
//
// The driver (e2e.mjs) calls window.e2e.gather() and window.e2e.connect() through the DevTools
// protocol.  Every wait here has its own time limit and rejects with what it was waiting for.
'use strict';

// Rejects after ms with an error naming what did not happen; the timer is cleared either way.
function within(promise, ms, what) {
    let timer;
    const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// ---- message contents ----------------------------------------------------------------------
// Message seq of len bytes: a 4-byte big-endian seq, a 4-byte length, then xorshift32 bytes
// seeded from seq, so the receiver rebuilds what should have come and compares every byte.
function message(seq, len) {
    const buf = new Uint8Array(len);
    const view = new DataView(buf.buffer);
    view.setUint32(0, seq);
    view.setUint32(4, len);
    let x = (seq * 2654435761 + 1) >>> 0 || 1;
    for (let i = 8; i < len; i++) {
        x ^= x << 13; x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5; x >>>= 0;
        buf[i] = x & 0xff;
    }
    return buf;
}

// Checks a received message against the one expected as seq: returns null, or what is wrong.
function verify(data, seq) {
    if (!(data instanceof ArrayBuffer))
        return `message ${seq}: got ${typeof data}, not binary`;
    const got = new Uint8Array(data);
    if (got.length < 8)
        return `message ${seq}: only ${got.length} bytes`;
    const view = new DataView(data);
    if (view.getUint32(0) !== seq)
        return `message ${seq}: got message ${view.getUint32(0)} instead (lost or reordered)`;
    if (view.getUint32(4) !== got.length)
        return `message ${seq}: ${got.length} bytes, sent as ${view.getUint32(4)}`;
    const want = message(seq, got.length);
    for (let i = 0; i < got.length; i++)
        if (got[i] !== want[i])
            return `message ${seq}: byte ${i} is ${got[i]}, not ${want[i]}`;
    return null;
}

// ---- what a peer connection saw ------------------------------------------------------------
// Records candidates and candidate errors as the events report them.
function watch(pc) {
    const seen = { candidates: [], errors: [] };
    pc.addEventListener('icecandidate', (e) => {
        if (e.candidate && e.candidate.candidate)
            seen.candidates.push({ type: e.candidate.type, protocol: e.candidate.protocol,
                                   address: e.candidate.address, port: e.candidate.port,
                                   relayProtocol: e.candidate.relayProtocol || null,
                                   url: e.candidate.url || e.url || null });
    });
    pc.addEventListener('icecandidateerror', (e) => {
        seen.errors.push({ errorCode: e.errorCode, errorText: e.errorText, url: e.url,
                           address: e.address, port: e.port });
    });
    return seen;
}

function gatheringComplete(pc) {
    if (pc.iceGatheringState === 'complete')
        return Promise.resolve();
    return new Promise((resolve) => {
        pc.addEventListener('icegatheringstatechange', () => {
            if (pc.iceGatheringState === 'complete')
                resolve();
        });
    });
}

function candidateStats(r) {
    return r ? { id: r.id, candidateType: r.candidateType, protocol: r.protocol,
                 relayProtocol: r.relayProtocol || null, address: r.address, port: r.port,
                 url: r.url || null } : null;
}

// The local candidates getStats() knows of.
async function localCandidates(pc) {
    const out = [];
    (await pc.getStats()).forEach((r) => {
        if (r.type === 'local-candidate')
            out.push(candidateStats(r));
    });
    return out;
}

// The selected candidate pair, found through the transport's selectedCandidatePairId, with
// its two candidates.
async function selectedPairNow(pc) {
    const stats = await pc.getStats();
    let pairId = null;
    stats.forEach((r) => {
        if (r.type === 'transport' && r.selectedCandidatePairId)
            pairId = r.selectedCandidatePairId;
    });
    const pair = pairId && stats.get(pairId);
    if (!pair)
        return null;
    return { state: pair.state, nominated: pair.nominated,
             currentRoundTripTime: pair.currentRoundTripTime ?? null,
             bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived,
             local: candidateStats(stats.get(pair.localCandidateId)),
             remote: candidateStats(stats.get(pair.remoteCandidateId)) };
}

// The selected pair once its state is 'succeeded': a pair reads 'in-progress' while one of
// its periodic connectivity checks is in flight, so look again for up to ms.
async function selectedPair(pc, ms) {
    const deadline = performance.now() + ms;
    for (;;) {
        const pair = await selectedPairNow(pc);
        if ((pair && pair.state === 'succeeded') || performance.now() > deadline)
            return pair;
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

// ---- data channels -------------------------------------------------------------------------
function opened(channel) {
    if (channel.readyState === 'open')
        return Promise.resolve();
    return new Promise((resolve, reject) => {
        channel.addEventListener('open', () => resolve(), { once: true });
        channel.addEventListener('close', () => reject(new Error('data channel closed')), { once: true });
    });
}

// Receives count messages on channel, checking each in order; resolves with the arrival time
// of the last one, rejects at the first wrong byte.
function receiveAll(channel, count) {
    return new Promise((resolve, reject) => {
        let next = 0;
        channel.onmessage = (e) => {
            const bad = verify(e.data, next);
            if (bad) {
                channel.onmessage = null;
                reject(new Error(bad));
                return;
            }
            if (++next === count) {
                channel.onmessage = null;
                resolve(performance.now());
            }
        };
    });
}

// Sends messages of the given sizes in order, holding back while more than highWater bytes
// wait in the channel's buffer.
async function sendAll(channel, sizes, highWater, ms) {
    channel.bufferedAmountLowThreshold = highWater / 4;
    for (let seq = 0; seq < sizes.length; seq++) {
        if (channel.bufferedAmount > highWater)
            await within(new Promise((resolve) => {
                channel.addEventListener('bufferedamountlow', resolve, { once: true });
            }), ms, 'the data channel buffer to drain');
        channel.send(message(seq, sizes[seq]));
    }
}

// Sends sizes from one channel to the other, every byte checked; resolves with the elapsed ms
// from the first send to the last arrival.
async function transfer(from, to, sizes, ms) {
    const done = receiveAll(to, sizes.length);
    const start = performance.now();
    await within(Promise.all([sendAll(from, sizes, 1 << 20, ms), done]), ms,
                 `${sizes.length} messages on '${from.label}'`);
    return (await done) - start;
}

// Round trips of a small message over the channel pair, one after the other.
async function pings(a, b, count, ms) {
    const times = [];
    b.onmessage = (e) => b.send(e.data);
    for (let i = 0; i < count; i++) {
        const back = new Promise((resolve) => { a.onmessage = (e) => resolve(e.data); });
        const t0 = performance.now();
        a.send(message(i, 64));
        const bad = verify(await within(back, ms, `ping ${i} to come back`), i);
        if (bad)
            throw new Error(`ping: ${bad}`);
        times.push(performance.now() - t0);
    }
    a.onmessage = b.onmessage = null;
    times.sort((x, y) => x - y);
    return { count, minMs: times[0], medianMs: times[times.length >> 1],
             maxMs: times[times.length - 1] };
}

// Trickles pc's candidates to other, holding them until other has its remote description.
function signal(pc, other, remoteSet) {
    pc.addEventListener('icecandidate', (e) => {
        if (e.candidate)
            remoteSet.then(() => other.addIceCandidate(e.candidate)).catch(() => {});
    });
}

// ---- the two entry points ------------------------------------------------------------------
window.e2e = {
    // One peer connection gathers candidates with config; resolves when gathering completes.
    async gather(config, ms) {
        const pc = new RTCPeerConnection(config);
        const seen = watch(pc);
        try {
            pc.createDataChannel('gather');
            await pc.setLocalDescription(await pc.createOffer());
            await within(gatheringComplete(pc), ms, 'ICE gathering to complete');
            return { ...seen, stats: await localCandidates(pc) };
        } finally {
            pc.close();
        }
    },

    // Two peer connections with config connect over a data channel and send each other
    // opts.sizes both ways; with opts.bulk = {count, size}, also a one-way transfer and
    // opts.pings round trips.  Resolves with the selected pairs and the figures.
    async connect(config, opts) {
        const ms = opts.timeoutMs;
        const a = new RTCPeerConnection(config);
        const b = new RTCPeerConnection(config);
        const seenA = watch(a), seenB = watch(b);
        let aSet, bSet;
        const aRemote = new Promise((resolve) => { aSet = resolve; });
        const bRemote = new Promise((resolve) => { bSet = resolve; });
        signal(a, b, bRemote);
        signal(b, a, aRemote);
        const result = { a: seenA, b: seenB };
        try {
            const chA = a.createDataChannel('e2e', { ordered: true });
            const chBArrives = new Promise((resolve) => { b.ondatachannel = (e) => resolve(e.channel); });
            await a.setLocalDescription(await a.createOffer());
            await b.setRemoteDescription(a.localDescription);
            bSet();
            await b.setLocalDescription(await b.createAnswer());
            await a.setRemoteDescription(b.localDescription);
            aSet();
            const t0 = performance.now();
            const chB = await within(chBArrives, ms, 'the data channel to reach the answerer');
            await within(Promise.all([opened(chA), opened(chB)]), ms, 'the data channel to open');
            result.openMs = performance.now() - t0;
            chA.binaryType = chB.binaryType = 'arraybuffer';

            result.aToB = { messages: opts.sizes.length, bytes: opts.sizes.reduce((s, n) => s + n, 0),
                            ms: await transfer(chA, chB, opts.sizes, ms) };
            result.bToA = { messages: opts.sizes.length, bytes: result.aToB.bytes,
                            ms: await transfer(chB, chA, opts.sizes, ms) };
            if (opts.bulk) {
                const sizes = new Array(opts.bulk.count).fill(opts.bulk.size);
                const bulkMs = await transfer(chA, chB, sizes, ms);
                result.bulk = { messages: sizes.length, bytes: sizes.length * opts.bulk.size, ms: bulkMs };
            }
            if (opts.pings)
                result.rtt = await pings(chA, chB, opts.pings, ms);
            result.pairA = await selectedPair(a, 3000);
            result.pairB = await selectedPair(b, 3000);
            return result;
        } catch (err) {
            // Say how far ICE got, for the failure message.
            result.error = String(err && err.message || err);
            result.iceA = a.iceConnectionState;
            result.iceB = b.iceConnectionState;
            result.localA = await localCandidates(a).catch(() => []);
            return result;
        } finally {
            a.close();
            b.close();
        }
    },
};
