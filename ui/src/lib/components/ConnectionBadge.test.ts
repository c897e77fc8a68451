// The connection badge in each state of the link, and its one action per state.

import { cleanup, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test, vi } from "vitest";
import * as backend from "../backend";
import type { LinkState } from "../generated/link";
import { FakeBackend, until } from "../testing/fake-backend";
import { deskSnapshot } from "../testing/fixtures";
import ConnectionBadge from "./ConnectionBadge.svelte";

const NOW = Date.parse("2025-01-01T10:00:00Z");

let fake: FakeBackend | undefined;

afterEach(() => {
  cleanup();
  fake?.uninstall();
  fake = undefined;
});

function renderBadge(link: LinkState, now = NOW) {
  fake = new FakeBackend(deskSnapshot());
  const onOpenSettings = vi.fn();
  const view = render(ConnectionBadge, {
    props: { link, now, onRetry: () => backend.retryNow(), onConnect: () => backend.connect(), onOpenSettings },
  });
  return { view, onOpenSettings, badge: screen.getByTestId("link-badge") };
}

describe("the connection badge", () => {
  test.each<[string, LinkState, RegExp]>([
    ["connected", { state: "connected", level: "level1", plant: "Demo", since: "2025-01-01T09:00:00Z" }, /^Connected · level 1$/],
    ["connected", { state: "connected", level: "level0", plant: null, since: "2025-01-01T09:00:00Z" }, /^Connected · level 0$/],
    ["connecting", { state: "connecting", attempt: 1 }, /^Connecting… \(attempt 1\)$/],
    ["failed", { state: "failed", reason: "certificate not trusted" }, /^Failed: certificate not trusted/],
    ["idle", { state: "idle" }, /^Offline/],
    ["stopped", { state: "stopped" }, /^Offline \(link stopped\)$/],
    ["unauthorized", { state: "unauthorized", reason: "401" }, /^Token rejected: set a new token/],
  ])("%s: %j", (state, link, text) => {
    const { badge } = renderBadge(link);
    expect(badge.dataset.state).toBe(state);
    expect(badge.textContent?.replace(/\s+/g, " ").trim()).toMatch(text);
  });

  test("reconnecting: the attempt, a countdown to the next try, and Retry now", async () => {
    const link: LinkState = {
      state: "reconnecting",
      attempt: 3,
      retryAt: new Date(NOW + 4_200).toISOString(),
      retryInMs: 4_200,
      lastError: "connection refused",
    };
    const { view, badge } = renderBadge(link);
    expect(badge.dataset.state).toBe("reconnecting");
    expect(badge.textContent).toMatch(/Reconnecting \(attempt 3\) · next try in 5 s/);
    expect(badge.textContent).toMatch(/connection refused/);
    await view.rerender({ now: NOW + 2_000 });
    expect(screen.getByTestId("retry-in").textContent).toBe("3");
    await view.rerender({ now: NOW + 10_000 });
    expect(screen.getByTestId("retry-in").textContent).toBe("0");

    await userEvent.click(screen.getByRole("button", { name: "Retry now" }));
    await until(() => fake!.callsOf("retry_now").length === 1, "retry_now");
  });

  test("failed offers Retry now; offline offers Connect", async () => {
    renderBadge({ state: "failed", reason: "bad URL" });
    await userEvent.click(screen.getByRole("button", { name: "Retry now" }));
    await until(() => fake!.callsOf("retry_now").length === 1, "retry_now");
    cleanup();
    fake!.uninstall();

    renderBadge({ state: "idle" });
    await userEvent.click(screen.getByRole("button", { name: "Connect" }));
    await until(() => fake!.callsOf("connect").length === 1, "connect");
  });

  test("unauthorized links to the settings", async () => {
    const { onOpenSettings } = renderBadge({ state: "unauthorized", reason: "token expired" });
    const link = screen.getByRole("link", { name: "Set token in Settings" });
    link.focus();
    await userEvent.keyboard("{Enter}");
    expect(onOpenSettings).toHaveBeenCalledTimes(1);
  });

  test("a refused Retry now is shown", async () => {
    renderBadge({ state: "failed", reason: "bad URL" });
    fake!.on("retry_now", () => {
      throw { code: "stopped", message: "the link has stopped" };
    });
    await userEvent.click(screen.getByRole("button", { name: "Retry now" }));
    await until(() => screen.queryByRole("alert") !== null, "the error");
    expect(screen.getByRole("alert").textContent).toBe("the link has stopped");
  });

  test("state changes are announced, the countdown is not", async () => {
    const link: LinkState = { state: "reconnecting", attempt: 2, retryAt: new Date(NOW + 9_000).toISOString(), retryInMs: 9_000, lastError: "x" };
    const { view } = renderBadge(link);
    const live = document.querySelector("[aria-live=polite]")!;
    expect(live.textContent).toBe("Plant link lost: reconnecting, attempt 2");
    await view.rerender({ now: NOW + 1_000 });
    expect(live.textContent).toBe("Plant link lost: reconnecting, attempt 2");
    await view.rerender({ link: { state: "connected", level: "level1", plant: null, since: "2025-01-01T10:00:05Z" } });
    expect(live.textContent).toBe("Plant link connected, level 1");
  });
});
