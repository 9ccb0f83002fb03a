import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isBottleError } from "../../src/core/errors.js";
import { parseDockerfile } from "../../src/core/image/dockerfile-syntax.js";
import {
  MAX_LAYER_BYTES,
  layerProblems,
  validateLayer,
} from "../../src/core/image/layer-validation.js";

function refusedWith(dockerfile: string, pattern: RegExp): void {
  const problems = layerProblems(dockerfile);
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `expected a problem matching ${String(pattern)}, got ${JSON.stringify(problems)}`,
  );
}

describe("parseDockerfile", () => {
  it("joins continuations, skips comments inside them, reads keywords in any case", () => {
    const parsed = parseDockerfile(
      [
        "# a comment",
        "run apt-get update \\",
        "  # a comment inside the continuation",
        "",
        "  && apt-get install -y jq",
        'Env A=1 B="two words"',
      ].join("\n"),
    );
    assert.deepEqual(
      parsed.instructions.map((i) => [i.keyword, i.line]),
      [
        ["RUN", 2],
        ["ENV", 6],
      ],
    );
    assert.match(parsed.instructions[0]?.args ?? "", /apt-get update\s+&& apt-get install -y jq/);
    assert.deepEqual(parsed.problems, []);
  });

  it("reads JSON and shell forms", () => {
    const [json, shell, notJson] = parseDockerfile(
      'RUN ["apt-get", "install", "-y", "jq"]\nRUN echo [x]\nRUN [not json\n',
    ).instructions;
    assert.deepEqual(json?.json, ["apt-get", "install", "-y", "jq"]);
    assert.equal(shell?.json, undefined);
    assert.equal(notJson?.json, undefined);
  });

  it("reads heredoc bodies as bodies, never as instructions", () => {
    const parsed = parseDockerfile(
      [
        "RUN <<EOF",
        "FROM evil",
        'ENTRYPOINT ["x"]',
        "EOF",
        "RUN <<-'END' cat",
        "\tUSER root",
        "\tEND",
        "USER agent",
      ].join("\n"),
    );
    assert.deepEqual(
      parsed.instructions.map((i) => i.keyword),
      ["RUN", "RUN", "USER"],
    );
    assert.equal(parsed.instructions[0]?.heredocs[0]?.body, 'FROM evil\nENTRYPOINT ["x"]');
    assert.equal(parsed.instructions[1]?.heredocs[0]?.body, "USER root");
  });

  it("honours the escape directive and reports what it cannot read", () => {
    const parsed = parseDockerfile("# escape=`\nRUN echo a `\n  b\nRUN echo c \\");
    assert.deepEqual(parsed.directives, [{ key: "escape", value: "`", line: 1 }]);
    assert.match(parsed.instructions[0]?.args ?? "", /echo a\s+b/);
    // With ` as the escape, the backslash is not a continuation: the last RUN is complete.
    assert.deepEqual(parsed.problems, []);
    assert.equal(parseDockerfile("RUN echo \\").problems.length, 1);
    assert.equal(parseDockerfile("RUN <<EOF\nno end").problems.length, 1);
  });
});

describe("validateLayer refusals", () => {
  it("accepts a plain package install", () => {
    assert.deepEqual(
      layerProblems("RUN apt-get update && apt-get install -y --no-install-recommends jq"),
      [],
    );
    assert.deepEqual(layerProblems("USER root\nRUN id\nUSER agent\nENV X=1"), []);
  });

  it("refuses FROM in any case and anywhere", () => {
    refusedWith("FROM debian", /FROM is refused/);
    refusedWith("RUN true\nfrom   debian AS x", /line 2: FROM is refused/);
  });

  it("refuses USER root left as the final user, by name or uid", () => {
    refusedWith("USER root", /USER root may not be left as the final user/);
    refusedWith("USER agent\nRUN true\nUSER 0:0", /line 3: USER root may not be left/);
    refusedWith("user root:root", /USER root may not be left/);
    refusedWith("USER root:staff", /USER root may not be left/);
    refusedWith("USER ${WHO}", /must name its user literally/);
  });

  it("refuses ENTRYPOINT and CMD overrides in both forms", () => {
    refusedWith('ENTRYPOINT ["sh"]', /ENTRYPOINT is refused/);
    refusedWith("entrypoint sh", /ENTRYPOINT is refused/);
    refusedWith("CMD bash", /CMD is refused/);
  });

  it("refuses ADD of URLs, and ADD and COPY of the (empty) build context", () => {
    refusedWith("ADD https://example.com/x.tgz /opt/", /ADD of a URL is refused/);
    refusedWith('ADD ["http://example.com/x", "/x"]', /ADD of a URL is refused/);
    refusedWith("ADD --chown=1:1 git@github.com:a/b.git /src", /ADD of a URL is refused/);
    refusedWith("ADD local.tgz /opt/", /build context is empty/);
    refusedWith("COPY a /a", /COPY is refused: the build context is empty/);
    refusedWith("COPY --from=alpine /bin/sh /sh", /COPY is refused/);
  });

  it("refuses a change over 64 KB", () => {
    const big = `RUN echo ${"x".repeat(MAX_LAYER_BYTES)}`;
    refusedWith(big, /bytes, more than the 65536 allowed/);
    assert.deepEqual(layerProblems(`RUN echo ${"x".repeat(MAX_LAYER_BYTES - 20)}`), []);
  });

  it("refuses parser directives, heredocs, a dangling continuation, unknown keywords and nothing", () => {
    refusedWith("# syntax=docker/dockerfile:1\nRUN true", /parser directive "syntax="/);
    refusedWith("# escape=`\nRUN true", /parser directive "escape="/);
    refusedWith("RUN <<EOF\necho hi\nEOF", /heredocs are refused/);
    refusedWith("RUN echo hi \\", /ends with a line continuation/);
    refusedWith("RUNN echo", /"RUNN" is not a Dockerfile instruction/);
    refusedWith("# only a comment\n", /holds no instruction/);
    refusedWith("ONBUILD RUN x", /ONBUILD is refused/);
    refusedWith("VOLUME /data", /VOLUME is refused/);
  });

  it("does not take a heredoc body's lines for instructions", () => {
    const problems = layerProblems("RUN <<EOF\nFROM x\nEOF");
    assert.ok(!problems.some((p) => /FROM is refused/.test(p)));
  });

  it("throws a typed error listing every problem", () => {
    assert.throws(
      () => {
        validateLayer("FROM x\nCMD y");
      },
      (error) =>
        isBottleError(error) &&
        error.code === "image_change_refused" &&
        error.details.length === 2 &&
        error.exitCode === 2,
    );
    assert.doesNotThrow(() => {
      validateLayer("RUN true");
    });
  });
});
