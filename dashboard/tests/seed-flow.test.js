// The seed's flow with nothing but the dashboard: create a volume, upload a file, fork it,
// see the diff, create a sandbox with the volume at a subpath, run a command in it, delete
// it, and read the file again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, launch, open, signIn, shoot, accessible, stayedHome } from "./browser.js";

let server, browser;
before(async () => {
  server = await Server.start();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test("a user with only the dashboard does the seed's flow", async (t) => {
  const { page, requests, errors } = await open(browser, server);
  t.after(() => (t.passed ? undefined : shoot(page, "failed-seed-flow")));
  await shoot(page, "sign-in");
  await accessible(page, "sign-in");
  await signIn(page, server.token);

  // Create a volume.
  await page.getByLabel("Name").fill("work");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.getByRole("link", { name: "work" }).click();
  await page.getByRole("heading", { name: "work", level: 1 }).waitFor();

  // Upload a file into a folder.
  await page.getByLabel("New folder").fill("project");
  await page.getByRole("button", { name: "Make folder" }).click();
  await page.getByRole("link", { name: "project/" }).click();
  await page.getByText("This folder is empty.").waitFor();
  await page.getByLabel("Upload files").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("first notes\n") });
  await page.getByText("Uploaded 1 file to /project.").waitFor();
  await page.getByRole("cell", { name: "notes.txt", exact: true }).waitFor();
  await shoot(page, "seed-files");

  // Fork it.
  await page.getByRole("link", { name: "Forks & snapshots" }).click();
  await page.getByRole("button", { name: "Fork work" }).click();
  await page.getByLabel("Name of the fork").fill("experiment");
  await page.getByRole("button", { name: "OK" }).click();
  await page.getByRole("link", { name: "experiment" }).click();
  await page.getByRole("heading", { name: "experiment", level: 1 }).waitFor();
  // Change the fork: a new file in it.
  await page.getByRole("link", { name: "Files" }).click();
  await page.getByLabel("Upload files").setInputFiles({ name: "idea.txt", mimeType: "text/plain", buffer: Buffer.from("try this\n") });
  await page.getByRole("cell", { name: "idea.txt", exact: true }).waitFor();

  // See the diff: from the volume it was forked from, to the fork.
  await page.getByRole("link", { name: "Diff" }).click();
  await page.getByText("1 difference from work to experiment").waitFor();
  assert.equal(await page.getByRole("cell", { name: "/idea.txt", exact: true }).count(), 1);
  await page.getByRole("cell", { name: "+ added", exact: true }).waitFor();
  await shoot(page, "seed-diff");

  // A sandbox with the volume at a subpath; a command in it.
  await page.getByRole("link", { name: "Sandboxes" }).click();
  await page.getByLabel("Volume 1").selectOption({ label: "work" });
  await page.getByLabel("Subpath 1").fill("project");
  await page.getByRole("button", { name: "Create sandbox" }).click();
  await page.getByRole("heading", { name: /^Sandbox / }).waitFor();
  await page.getByLabel("Command", { exact: true }).fill("cat /workspace/notes.txt && echo from the sandbox > /workspace/made.txt");
  await page.getByRole("button", { name: "Run" }).click();
  await page.getByText("[exit code 0]").waitFor();
  assert.match(await page.getByLabel("Command output").textContent(), /first notes/);
  await shoot(page, "seed-sandbox");

  // Delete it.
  await page.getByRole("button", { name: "Delete sandbox" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("No sandboxes run now.").waitFor();
  // What was done is said on the page it leads to.
  await page.getByText(/^Deleted sandbox /).waitFor();

  // Read the files again: the upload and what the sandbox made.
  await page.goto(`${server.endpoint}/#/volumes/work?tab=files&path=%2Fproject`);
  await page.getByRole("button", { name: "Preview notes.txt" }).click();
  await page.getByRole("heading", { name: "Preview of notes.txt" }).waitFor();
  assert.equal(await page.getByRole("region", { name: "Preview" }).locator("pre").textContent(), "first notes\n");
  await page.getByRole("button", { name: "Preview made.txt" }).click();
  await page.getByRole("heading", { name: "Preview of made.txt" }).waitFor();
  assert.equal(await page.getByRole("region", { name: "Preview" }).locator("pre").textContent(), "from the sandbox\n");

  stayedHome(requests, server);
  assert.deepEqual(errors, []);
});
