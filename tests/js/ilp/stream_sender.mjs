// Sends money and data to a STREAM receiver with the Interledger reference libraries:
// ilp-protocol-stream over ilp-plugin-btp. Run by crates/ilp/tests/interop_js.rs against our
// BTP server and STREAM receiver.
//   node stream_sender.mjs <btp+ws://:token@host:port> <destination> <shared secret, base64> <amount> <text>
// Prints one JSON line: what ilp-protocol-stream says it sent.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createConnection } = require('ilp-protocol-stream');
const BtpPlugin = require('ilp-plugin-btp');

const [server, destinationAccount, secret, amount, text] = process.argv.slice(2);
const plugin = new BtpPlugin({ server });
const connection = await createConnection({
  plugin,
  destinationAccount,
  sharedSecret: Buffer.from(secret, 'base64'),
  slippage: 0,
});
const stream = connection.createStream();
await stream.sendTotal(amount, { timeout: 20_000 });
await new Promise((resolve, reject) => stream.write(Buffer.from(text), (e) => (e ? reject(e) : resolve())));
stream.end();
await new Promise((resolve) => stream.once('close', resolve));
await connection.end();
console.log(JSON.stringify({
  sent: stream.totalSent,
  address: connection.sourceAccount,
  asset: [connection.destinationAssetCode, connection.destinationAssetScale],
}));
await plugin.disconnect();
// ilp-protocol-stream leaves the timer of a rate probe a connector refused with F08 running
// for its 30 s: done is done.
process.exit(0);
