'use strict';

// A TLS server made with Node's tls module that speaks just enough RESP for a client to
// connect, run PING and QUIT: every command gets +PONG (PING) or +OK. It records, per
// connection, what Node saw of it: the SNI name the client sent (`servername`, false for
// none), the commands, the TLS records the client sent (their content types, read from the
// raw bytes under TLS), how the TLS connection ended (`ended`: 'end', or an error code) and
// how the client's TCP connection ended (`clientEnd`: 'end' for a FIN, or an error code).
const net = require('node:net');
const tls = require('node:tls');

/** Splits complete RESP arrays of bulk strings off `buffer`; returns [commands, rest]. */
function takeCommands(buffer) {
  const commands = [];
  let at = 0;
  for (;;) {
    const start = at;
    const line = (from) => {
      const end = buffer.indexOf('\r\n', from);
      return end < 0 ? null : [buffer.toString('latin1', from, end), end + 2];
    };
    const head = line(at);
    if (head === null || head[0][0] !== '*') return [commands, buffer.subarray(start)];
    let next = head[1];
    const args = [];
    for (let i = 0; i < Number(head[0].slice(1)); i++) {
      const size = line(next);
      if (size === null || next + size[0].length + 2 + Number(size[0].slice(1)) + 2 > buffer.length) {
        return [commands, buffer.subarray(start)];
      }
      const length = Number(size[0].slice(1));
      args.push(buffer.toString('latin1', size[1], size[1] + length));
      next = size[1] + length + 2;
    }
    commands.push(args);
    at = next;
  }
}

/** The content types of the TLS records in `bytes` (a client's whole stream). */
function recordTypes(bytes) {
  const types = [];
  for (let at = 0; at + 5 <= bytes.length; at += 5 + bytes.readUInt16BE(at + 3)) types.push(bytes[at]);
  return types;
}

/**
 * Starts the server on a free loopback port (IPv4 or, with `host: '::1'`, IPv6). The port
 * clients get is a pass-through TCP proxy in front of the TLS server, which keeps each
 * client's raw bytes.
 * @param {{cert: string, key: string, host?: string}} options
 */
async function startRespTlsServer({ cert, key, host = '127.0.0.1' }) {
  const connections = [];
  const byUpstreamPort = new Map();
  const sockets = new Set();
  const track = (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const tlsServer = tls.createServer({ cert, key }, (socket) => {
    const conn = byUpstreamPort.get(socket.remotePort);
    conn.servername = socket.servername; // false when the client sent no SNI
    let pending = Buffer.alloc(0);
    socket.on('data', (data) => {
      let commands;
      [commands, pending] = takeCommands(Buffer.concat([pending, data]));
      for (const command of commands) {
        conn.commands.push(command[0].toUpperCase());
        socket.write(command[0].toUpperCase() === 'PING' ? '+PONG\r\n' : '+OK\r\n');
      }
    });
    socket.on('end', () => { conn.ended ??= 'end'; });
    socket.on('error', (error) => { conn.ended ??= error.code ?? error.message; });
  });
  tlsServer.on('connection', track);
  await new Promise((resolve) => tlsServer.listen(0, host, resolve));
  const proxy = net.createServer((client) => {
    track(client);
    const conn = { servername: undefined, commands: [], ended: undefined, bytes: [], clientEnd: undefined };
    connections.push(conn);
    client.pause();
    const upstream = net.connect(tlsServer.address().port, host, () => {
      byUpstreamPort.set(upstream.localPort, conn);
      client.on('data', (data) => {
        conn.bytes.push(data);
        upstream.write(data);
      });
      client.resume();
    });
    track(upstream);
    upstream.on('data', (data) => client.write(data));
    client.on('end', () => {
      conn.clientEnd ??= 'end';
      upstream.end();
    });
    upstream.on('end', () => client.end());
    client.on('error', (error) => {
      conn.clientEnd ??= error.code;
      upstream.destroy();
    });
    upstream.on('error', () => client.destroy());
  });
  await new Promise((resolve) => proxy.listen(0, host, resolve));
  return {
    port: proxy.address().port,
    connections,
    /** The content types of the TLS records connection `i`'s client sent (21: alert, 23: data). */
    recordTypes: (i) => recordTypes(Buffer.concat(connections[i].bytes)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([proxy, tlsServer].map((s) => new Promise((resolve) => s.close(() => resolve()))));
    },
  };
}

module.exports = { startRespTlsServer };
