// A venue's webhook endpoint for the walkthrough (docs/walkthrough.sh): listens on a free loopback
// port, prints its URL, verifies every request with the standardwebhooks library against the
// secret in the file given (read at each request: the endpoint is registered after this starts),
// appends `{ id, type, verified, data }` as a JSON line to the log file given and answers 204.
// Usage: node docs/webhook-receiver.mjs <secret-file> <log-file>
import { appendFileSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const [secretFile, logFile] = process.argv.slice(2);
const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let verified = false;
    try {
      new Webhook(readFileSync(secretFile, "utf8").trim()).verify(body, request.headers);
      verified = true;
    } catch {}
    const { type, data } = JSON.parse(body);
    appendFileSync(
      logFile,
      `${JSON.stringify({ id: request.headers["webhook-id"], type, verified, data })}\n`,
    );
    response.writeHead(verified ? 204 : 401).end();
  });
});
server.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}/hooks`));
