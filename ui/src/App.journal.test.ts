// The Journal tab in the page: reached by click and by arrow keys like the other tabs, its
// views (entries, shift log, alarm health) behind tabs of their own, nothing asked before it
// is opened, and only the view on screen asking.

import { cleanup, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test } from "vitest";
import App from "./App.svelte";
import { FakeBackend, settle, until } from "./lib/testing/fake-backend";
import { deskSnapshot, viewer } from "./lib/testing/fixtures";
import { alarmHealth, entries, journalPage } from "./lib/testing/journal-fixtures";

let fake: FakeBackend | undefined;

afterEach(() => {
  cleanup();
  fake?.uninstall();
  fake = undefined;
  document.documentElement.removeAttribute("data-theme");
});

async function renderLoaded(snapshot = deskSnapshot()) {
  fake = new FakeBackend(snapshot);
  fake.on("journal", () => journalPage(entries(2, 9), { source: "desk", notice: null }));
  fake.on("alarm_health", () => alarmHealth());
  render(App);
  await until(() => document.querySelectorAll("[data-testid=tile]").length > 0, "the first snapshot");
  return fake;
}

describe("the Journal tab", () => {
  test("a tab like the others, after Trends: arrows reach it; nothing is asked until it opens", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded();
    await settle();
    expect(fake.callsOf("journal")).toHaveLength(0);
    screen.getByTestId("tab-trends").focus();
    await user.keyboard("{ArrowRight}");
    expect(document.activeElement).toBe(screen.getByTestId("tab-journal"));
    expect(screen.getByTestId("tab-journal").getAttribute("aria-selected")).toBe("true");
    expect(screen.getByTestId("tab-journal").textContent!.trim()).toBe("Journal");
    await until(() => screen.queryAllByTestId("journal-row").length === 2, "the rows");
    expect(screen.getByTestId("journal-view")).toBeTruthy();
    expect(screen.getByTestId("journal-source-banner").textContent).toContain("This desk's own record");
    await user.keyboard("{ArrowRight}");
    expect(screen.getByTestId("tab-settings").getAttribute("aria-selected")).toBe("true");
  });

  test("the shift log and alarm health are views of the tab; the viewer's note form says why it is off", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded(deskSnapshot({ operator: viewer() }));
    await user.click(screen.getByTestId("tab-journal"));
    await until(() => fake.callsOf("journal").length === 1, "the journal");
    expect(fake.callsOf("alarm_health")).toHaveLength(0);

    await user.click(screen.getByTestId("journal-subtab-log"));
    await until(() => screen.queryByTestId("note-input") !== null, "the shift log");
    expect((screen.getByTestId("note-input") as HTMLTextAreaElement).disabled).toBe(true);
    expect(screen.getByTestId("note-denied").textContent).toContain("may not write notes");
    await until(() => fake.callsOf("journal").length === 2, "the notes");

    await user.keyboard("{ArrowRight}");
    expect(document.activeElement).toBe(screen.getByTestId("journal-subtab-health"));
    await until(() => screen.queryByTestId("alarm-health-rating") !== null, "alarm health");
    expect(fake.callsOf("alarm_health")).toHaveLength(1);
    expect(screen.getByTestId("alarm-health")).toBeTruthy();
  });
});
