// The Engine API client's transport against a real HTTP server on a unix socket (as dockerd
// listens): what goes on the wire, how refusals come back, and the engine's stream framing.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { isBottleError } from "../../src/core/errors.js";
import { EngineClient } from "../../src/backend/docker/engine-client.js";
import {
  EngineError,
  demuxBuffer,
  demuxStream,
  engineEndpoint,
  readJsonLines,
} from "../../src/backend/docker/engine-http.js";

interface Seen {
  method: string;
  url: string;
  type: string | undefined;
  body: string;
}

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe("engine client transport", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-engine-"));
  const socket = path.join(dir, "docker.sock");
  const seen: Seen[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({
        method: request.method ?? "",
        url: request.url ?? "",
        type: request.headers["content-type"],
        body,
      });
      const url = request.url ?? "";
      if (url.startsWith("/containers/create")) {
        response.writeHead(201, { "content-type": "application/json" });
        response.end(JSON.stringify({ Id: "c0ffee" }));
      } else if (url.startsWith("/containers/gone/")) {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(JSON.stringify({ message: "No such container: gone" }));
      } else if (url.startsWith("/containers/c0ffee/logs")) {
        response.writeHead(200);
        response.end(Buffer.concat([frame(1, "out "), frame(2, "err")]));
      } else if (url.startsWith("/volumes")) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ Volumes: null }));
      } else {
        response.writeHead(204);
        response.end();
      }
    });
  });
  const last = (): Seen => {
    const found = seen[seen.length - 1];
    assert.ok(found !== undefined, "the server saw no request");
    return found;
  };
  const client = new EngineClient({ DOCKER_HOST: `unix://${socket}` });

  before(async () => {
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("sends the name as a query, the rest as JSON, and returns a handle on the new id", async () => {
    const container = await client.createContainer({
      name: "bb-x",
      Image: "img",
      Labels: { a: "b" },
    });
    assert.equal(container.id, "c0ffee");
    const request = last();
    assert.equal(request.url, "/containers/create?name=bb-x");
    assert.equal(request.type, "application/json");
    assert.deepEqual(JSON.parse(request.body), { Image: "img", Labels: { a: "b" } });
  });

  it("encodes filters as JSON in the query", async () => {
    await client.listVolumes({ filters: { label: ["bot-bottle.identity=x"] } });
    const url = new URL(`http://engine${last().url}`);
    assert.deepEqual(JSON.parse(url.searchParams.get("filters") ?? ""), {
      label: ["bot-bottle.identity=x"],
    });
  });

  it("reads a null volume list as empty", async () => {
    assert.deepEqual(await client.listVolumes(), []);
  });

  it("rejects a refusal with its status and the engine's message", async () => {
    await assert.rejects(client.getContainer("gone").inspect(), (error: unknown) => {
      assert.ok(error instanceof EngineError);
      assert.equal(error.statusCode, 404);
      assert.match(error.message, /No such container: gone/);
      return true;
    });
  });

  it("streams a tar body with its content type", async () => {
    await client.getContainer("c0ffee").putArchive(Readable.from([Buffer.from("tarbytes")]), {
      path: "/workspace",
    });
    const request = last();
    assert.equal(request.method, "PUT");
    assert.equal(request.url, "/containers/c0ffee/archive?path=%2Fworkspace");
    assert.equal(request.type, "application/x-tar");
    assert.equal(request.body, "tarbytes");
  });

  it("removes the frames of a whole log", async () => {
    assert.equal((await client.getContainer("c0ffee").logs()).toString(), "out err");
  });
});

describe("engine stream framing", () => {
  it("splits stdout and stderr even when frames are cut across chunks", async () => {
    const bytes = Buffer.concat([frame(1, "hello "), frame(2, "oops"), frame(1, "world")]);
    const source = new PassThrough();
    const out = new PassThrough();
    const err = new PassThrough();
    const outText: string[] = [];
    const errText: string[] = [];
    out.on("data", (c: Buffer) => outText.push(c.toString()));
    err.on("data", (c: Buffer) => errText.push(c.toString()));
    demuxStream(source, out, err);
    for (let at = 0; at < bytes.length; at += 3) source.write(bytes.subarray(at, at + 3));
    source.end();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(outText.join(""), "hello world");
    assert.equal(errText.join(""), "oops");
    assert.equal(demuxBuffer(bytes).toString(), "hello oopsworld");
  });

  it("reads JSON events split anywhere, multi-byte characters included", async () => {
    const text = `{"stream":"Step 1/2 é"}\n{"stream":"done"}\n{"error":"boom"}`;
    const bytes = Buffer.from(text);
    const chunks = [bytes.subarray(0, 20), bytes.subarray(20, 21), bytes.subarray(21)];
    const each: unknown[] = [];
    const events = await readJsonLines(Readable.from(chunks), (e) => each.push(e));
    assert.deepEqual(events, [{ stream: "Step 1/2 é" }, { stream: "done" }, { error: "boom" }]);
    assert.deepEqual(each, events);
  });
});

describe("engine endpoint", () => {
  it("takes the default socket, unix:// and tcp://, and refuses what it cannot reach", () => {
    assert.deepEqual(engineEndpoint({}), { socketPath: "/var/run/docker.sock" });
    assert.deepEqual(engineEndpoint({ DOCKER_HOST: "unix:///tmp/d.sock" }), {
      socketPath: "/tmp/d.sock",
    });
    assert.deepEqual(engineEndpoint({ DOCKER_HOST: "tcp://10.0.0.2:2375" }), {
      host: "10.0.0.2",
      port: 2375,
    });
    assert.throws(
      () => engineEndpoint({ DOCKER_HOST: "ssh://me@host" }),
      (error: unknown) => isBottleError(error) && error.code === "engine_unreachable",
    );
  });
});
