// Reads an Adaptive Card (JSON) on stdin and checks it with Microsoft's own Adaptive Cards parser, as
// a Teams client of schema 1.5 would read it. Prints the problems found as a JSON list of strings and
// exits 1 if there are any, 2 if the input is not JSON at all.
"use strict";

// The package's main entry is an ES module whose imports lack file extensions, which Node cannot load;
// the bundled build in dist/ is plain CommonJS and holds the same parser.
const AC = require("adaptivecards/dist/adaptivecards.js");

function describe(event) {
  const phase = AC.ValidationPhase[event.phase] || String(event.phase);
  const kind = AC.ValidationEvent[event.event] || String(event.event);
  const source = event.source && typeof event.source.getJsonTypeName === "function"
    ? event.source.getJsonTypeName()
    : "card";
  const id = event.source && event.source.id ? `#${event.source.id}` : "";
  return `${phase} ${kind} in ${source}${id}: ${event.message}`;
}

function problems(payload) {
  const card = new AC.AdaptiveCard();
  // Teams shows up to six actions in a row, where the library's default host allows five.
  card.hostConfig = new AC.HostConfig({ supportsInteractivity: true, actions: { maxActions: 6 } });
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  card.parse(payload, context);
  const found = [];
  for (let i = 0; i < context.eventCount; i++) {
    found.push(describe(context.getEventAt(i)));
  }
  for (const event of card.validateProperties().validationEvents) {
    found.push(describe(event));
  }
  if (payload.type !== "AdaptiveCard") {
    found.push(`the card's type is ${JSON.stringify(payload.type)}, not "AdaptiveCard"`);
  }
  if (payload.version !== "1.5") {
    found.push(`the card's version is ${JSON.stringify(payload.version)}, not "1.5"`);
  }
  return found;
}

function main() {
  const chunks = [];
  process.stdin.on("data", (chunk) => chunks.push(chunk));
  process.stdin.on("end", () => {
    let payload;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      process.stdout.write(JSON.stringify([`not JSON: ${error.message}`]) + "\n");
      process.exit(2);
    }
    const found = problems(payload);
    process.stdout.write(JSON.stringify(found) + "\n");
    process.exit(found.length ? 1 : 0);
  });
}

main();
