import { deepEqual, equal } from "node:assert/strict";
import { type Key, KeyDecoder, LineEditor } from "../../lib/cli/line_editor.ts";
import { commonPrefix, completeWord, escapeWord } from "../../lib/cli/completion.ts";
import { splitCommandLine } from "../../lib/cli/shell_parse.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("KeyDecoder: arrows in both forms, Home/End/Delete, controls, and UTF-8 cut between reads", () => {
  const keys = new KeyDecoder();
  deepEqual(keys.push(bytes("\x1b[A\x1bOB\x1b[C\x1b[D")), ["up", "down", "right", "left"]);
  deepEqual(keys.push(bytes("\x1b[H\x1b[F\x1b[1~\x1b[4~\x1b[3~")), [
    "home",
    "end",
    "home",
    "end",
    "delete",
  ]);
  deepEqual(keys.push(bytes("\x01\x05\x15\x0b\x17\x7f\x03\x04\r\t")), [
    "home",
    "end",
    "kill-start",
    "kill-end",
    "kill-word",
    "backspace",
    "interrupt",
    "eof",
    "enter",
    "tab",
  ]);
  // Ctrl-Left and unknown sequences are ignored, never typed into the line.
  deepEqual(keys.push(bytes("\x1b[1;5D\x1b[200~")), ["left", "ignore"]);
  const e = bytes("é");
  deepEqual(keys.push(e.subarray(0, 1)), []);
  deepEqual(keys.push(e.subarray(1)), [{ text: "é" }]);
  deepEqual(keys.push(bytes("\x1b")), []);
  deepEqual(keys.push(bytes("[A")), ["up"]);
});

function typeKeys(editor: LineEditor, keys: Key[]): void {
  for (const key of keys) editor.apply(key);
}

Deno.test("LineEditor: editing keys change the line where the cursor is", () => {
  const editor = new LineEditor();
  typeKeys(editor, [{ text: "get a.txt" }, "home", "delete", { text: "G" }, "end", "backspace"]);
  equal(editor.text, "Get a.tx");
  typeKeys(editor, ["left", "left", "kill-end"]);
  equal(editor.text, "Get a.");
  typeKeys(editor, ["left", "kill-start"]);
  equal(editor.text, ".");
  typeKeys(editor, ["end", { text: "x ls  " }, "kill-word"]);
  equal(editor.text, ".x ");
  // Ctrl-D deletes under the cursor on a line; ends the input on an empty one.
  typeKeys(editor, ["home"]);
  equal(editor.apply("eof"), "redraw");
  equal(editor.text, "x ");
  typeKeys(editor, ["kill-end"]);
  equal(editor.apply("eof"), "eof");
});

Deno.test("LineEditor: Up and Down browse the history and keep the line being typed", () => {
  const editor = new LineEditor();
  for (const line of ["ls", "pwd", "pwd", "  "]) {
    editor.insert(line);
    editor.submit();
  }
  // Repeats and blank lines are not kept.
  deepEqual(editor.history, ["ls", "pwd"]);
  editor.insert("cd");
  typeKeys(editor, ["up"]);
  equal(editor.text, "pwd");
  typeKeys(editor, ["up", "up"]);
  equal(editor.text, "ls");
  typeKeys(editor, ["down", "down"]);
  equal(editor.text, "cd");
  equal(editor.apply("down"), "none");
  editor.reset();
  equal(editor.text, "");
});

Deno.test("completeWord: commands first, then remote or local names; escaped words split back", async () => {
  const asked: string[] = [];
  const sources = {
    commands: ["lcd", "lls", "ls", "put"],
    remote: (dir: string) => {
      asked.push(`remote ${dir}`);
      return Promise.resolve([
        { name: "my file.txt", dir: false },
        { name: "sub", dir: true },
        { name: "evil\x1b[2J", dir: false },
        { name: "back\\slash", dir: true },
      ]);
    },
    local: (dir: string) => {
      asked.push(`local ${dir}`);
      return Promise.resolve([{ name: "here.txt", dir: false }, { name: "w\\in", dir: false }]);
    },
  };
  deepEqual((await completeWord("l", sources)).candidates, ["lcd", "lls", "ls"]);
  deepEqual(await completeWord("ls sub/m", sources), {
    typed: "sub/m",
    word: "sub/m",
    candidates: ["sub/my file.txt"],
  });
  // A name a terminal would act on is never offered, nor a remote one no request can carry
  // (a backslash); a local one can be sent as it is.
  deepEqual((await completeWord("ls ", sources)).candidates, ["my file.txt", "sub/"]);
  deepEqual((await completeWord("put w", sources)).candidates, ["w\\in"]);
  deepEqual((await completeWord("put h", sources)).candidates, ["here.txt"]);
  deepEqual((await completeWord("put here.txt s", sources)).candidates, ["sub/"]);
  deepEqual((await completeWord("lls h", sources)).candidates, ["here.txt"]);
  // cd and rmdir take folders only.
  deepEqual((await completeWord("cd ", sources)).candidates, ["sub/"]);
  deepEqual(asked, [
    "remote sub/",
    "remote ",
    "local ",
    "local ",
    "remote ",
    "local ",
    "remote ",
  ]);
  equal((await completeWord("get my\\ f", sources)).typed, "my\\ f");
  // Inside quotes too, open or closed (found by an audit: Tab did nothing there).
  for (const line of ['get "my f', "get 'my f", 'get my" "f', 'get "my"\\ f']) {
    const { word, candidates } = await completeWord(line, sources);
    deepEqual([word, candidates], ["my f", ["my file.txt"]], line);
  }
  equal(commonPrefix(["abc", "abd", "ab"]), "ab");
  // Found by an audit: half an emoji went into the line, and the server refused the request.
  equal(commonPrefix(["\u{1F600}a.txt", "\u{1F601}b.txt"]), "");
  equal(commonPrefix(["x\u{1F600}a", "x\u{1F600}b"]), "x\u{1F600}");
  deepEqual(splitCommandLine(`get ${escapeWord(`it's "a" \\ #1`)}`), ["get", `it's "a" \\ #1`]);
});
