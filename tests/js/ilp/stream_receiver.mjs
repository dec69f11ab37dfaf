// A STREAM receiver made with the Interledger reference libraries: ilp-protocol-stream's
// server over an ilp-plugin-btp listener. Run by crates/ilp/tests/interop_js.rs, whose STREAM
// sender connects over BTP and pays it.
//   node stream_receiver.mjs <port> <token>
// Prints a JSON line with the destination and shared secret once our side connected and
// answered ILDCP; then, when the sender closes the connection, a JSON line with what arrived.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createServer } = require('ilp-protocol-stream');
const BtpPlugin = require('ilp-plugin-btp');

const [port, token] = process.argv.slice(2);
const plugin = new BtpPlugin({ listener: { port: Number(port), secret: token } });
const server = await createServer({ plugin });
const { destinationAccount, sharedSecret } = server.generateAddressAndSecret();
console.log(JSON.stringify({ destination: destinationAccount, secret: sharedSecret.toString('base64') }));

server.on('connection', (connection) => {
  let money = 0;
  const chunks = [];
  connection.on('stream', (stream) => {
    stream.setReceiveMax(1_000_000_000);
    stream.on('money', (amount) => { money += Number(amount); });
    stream.on('data', (chunk) => chunks.push(chunk));
  });
  connection.once('end', async () => {
    console.log(JSON.stringify({ received: money, data: Buffer.concat(chunks).toString() }));
    await plugin.disconnect();
    process.exit(0);
  });
});
