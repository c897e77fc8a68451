// "Check for updates" calls the app's command and offers to install what it found.

import { cleanup, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test } from "vitest";
import { FakeBackend, until } from "../testing/fake-backend";
import { deskSnapshot } from "../testing/fixtures";
import Updates from "./Updates.svelte";

let fake: FakeBackend | undefined;

afterEach(() => {
  cleanup();
  fake?.uninstall();
  fake = undefined;
});

describe("check for updates", () => {
  test("up to date", async () => {
    fake = new FakeBackend(deskSnapshot()).on("check_for_updates", () => ({ current: "0.1.0", available: null }));
    render(Updates);
    await userEvent.click(screen.getByRole("button", { name: "Check for updates" }));
    await until(() => screen.getByRole("status").textContent?.includes("up to date") === true);
    expect(screen.getByRole("status").textContent).toMatch(/Brewdeck 0\.1\.0 is up to date/);
    expect(fake.callsOf("check_for_updates")).toHaveLength(1);
    expect(screen.queryByRole("button", { name: /Install/ })).toBeNull();
  });

  test("a newer version is offered and installed on request", async () => {
    fake = new FakeBackend(deskSnapshot())
      .on("check_for_updates", () => ({ current: "0.1.0", available: { version: "0.2.0", notes: null, date: null } }))
      .on("install_update", () => null);
    render(Updates);
    await userEvent.click(screen.getByRole("button", { name: "Check for updates" }));
    await until(() => screen.queryByRole("button", { name: "Install and restart" }) !== null);
    const install = screen.getByRole("button", { name: "Install and restart" });
    expect(screen.getByRole("status").textContent).toMatch(/Version 0\.2\.0 is available/);
    expect(fake.callsOf("install_update")).toHaveLength(0);
    await userEvent.click(install);
    await until(() => fake!.callsOf("install_update").length === 1);
    expect(fake.callsOf("install_update")).toHaveLength(1);
  });

  test("a failed check says why", async () => {
    fake = new FakeBackend(deskSnapshot()).on("check_for_updates", () => {
      throw { code: "internal", message: "could not check for updates: offline" };
    });
    render(Updates);
    await userEvent.click(screen.getByRole("button", { name: "Check for updates" }));
    await until(() => screen.queryByRole("alert") !== null);
    expect(screen.getByRole("alert").textContent).toBe("could not check for updates: offline");
  });
});
