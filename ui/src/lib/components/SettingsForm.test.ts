// The settings form against a faked Rust side: validation before save_settings, the Rust
// side's own refusals shown at their field, and the write-only token field.

import { cleanup, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test } from "vitest";
import * as backend from "../backend";
import type { DeskStatus } from "../generated/station";
import { FakeBackend, until } from "../testing/fake-backend";
import { deskSnapshot, deskStatus } from "../testing/fixtures";
import SettingsForm from "./SettingsForm.svelte";

let fake: FakeBackend | undefined;

afterEach(() => {
  cleanup();
  fake?.uninstall();
  fake = undefined;
});

/** The form wired to the (faked) commands as App wires it: each answer is the new desk status. */
function renderForm(desk: DeskStatus = deskStatus()) {
  fake = new FakeBackend(deskSnapshot({ desk }));
  const view = render(SettingsForm, {
    props: {
      desk,
      onSaveSettings: async (s) => void (await view.rerender({ desk: await backend.saveSettings(s) })),
      onSetToken: async (t, r) => void (await view.rerender({ desk: await backend.setToken(t, r) })),
      onForgetToken: async () => void (await view.rerender({ desk: await backend.forgetToken() })),
    },
  });
  return { view, fake };
}

const serverUrl = () => screen.getByLabelText("Server URL") as HTMLInputElement;
const caFile = () => screen.getByLabelText(/Site CA file/) as HTMLInputElement;
const save = () => screen.getByRole("button", { name: "Save settings" });

describe("settings validation", () => {
  test.each([
    ["plant.example/ws", /Start the server URL with wss:\/\//],
    ["http://plant.example/ws", /not http:\/\/ or https:\/\//],
    ["ftp://plant.example", /must start with wss:\/\//],
    ["wss://operator:secret@plant.example/ws", /Credentials in the URL are refused/],
    ["wss://plant.example/ws?token=abc", /query string .* is refused/],
    ["ws://plant.example/ws", /ws:\/\/ is unencrypted and allowed only to this computer/],
    ["wss://", /not a valid URL|no host/],
  ])("server URL %j is refused with a clear message, and nothing is saved", async (typed, message) => {
    const user = userEvent.setup();
    const { fake } = renderForm();
    await user.type(serverUrl(), typed);
    await user.click(save());
    expect(screen.getByTestId("server-url-error").textContent).toMatch(message);
    expect(serverUrl().getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(serverUrl());
    expect(screen.getByTestId("settings-invalid").textContent).toMatch(/Not saved/);
    expect(fake.callsOf("save_settings")).toHaveLength(0);
  });

  test("a relative CA path is refused", async () => {
    const user = userEvent.setup();
    const { fake } = renderForm();
    await user.type(caFile(), "certs/site.pem");
    await user.click(save());
    expect(screen.getByTestId("ca-file-error").textContent).toMatch(/Give the full path of the CA file/);
    expect(fake.callsOf("save_settings")).toHaveLength(0);
  });

  test("valid settings are saved as typed", async () => {
    const user = userEvent.setup();
    const { fake } = renderForm();
    await user.type(serverUrl(), "  wss://plant.example:8443/ws ");
    await user.type(caFile(), "/etc/ssl/site-ca.pem");
    await user.click(screen.getByRole("checkbox", { name: "high" }));
    await user.click(screen.getByRole("checkbox", { name: "Notify me when my commands end" }));
    await user.selectOptions(screen.getByLabelText("Theme"), "dark");
    await user.click(save());
    await until(() => fake.callsOf("save_settings").length === 1, "save_settings");
    expect(fake.callsOf("save_settings")[0]!.args).toEqual({
      settings: {
        serverUrl: "wss://plant.example:8443/ws",
        siteCaFile: "/etc/ssl/site-ca.pem",
        notifications: { severities: ["critical", "high"], commandCompletions: false },
        theme: "dark",
        alarmSounds: { critical: "repeat", high: "once", medium: "off", low: "off" },
      },
    });
    await until(() => screen.queryByText("Settings saved.") !== null, "the confirmation");
    expect(screen.queryByTestId("server-url-error")).toBeNull();
  });

  test("the alarm sounds are chosen per severity and saved with the rest", async () => {
    const user = userEvent.setup();
    const { fake } = renderForm();
    const select = (severity: string) => screen.getByTestId(`alarm-sound-${severity}`) as HTMLSelectElement;
    expect(["critical", "high", "medium", "low"].map((s) => select(s).value)).toEqual(["repeat", "once", "off", "off"]);
    expect(screen.getByRole("group", { name: "Alarm sounds" })).toBeTruthy();
    expect(screen.getByRole("combobox", { name: "Critical" })).toBe(select("critical"));
    expect([...select("high").options].map((o) => o.textContent)).toEqual(["Repeat until acknowledged or silenced", "Once", "Off"]);
    expect(screen.getByText(/stops the sound without acknowledging/)).toBeTruthy();

    await user.selectOptions(select("critical"), "once");
    await user.selectOptions(select("high"), "repeat");
    await user.selectOptions(select("low"), "Repeat until acknowledged or silenced");
    await user.click(save());
    await until(() => fake.callsOf("save_settings").length === 1, "save_settings");
    const settings = fake.callsOf("save_settings")[0]!.args.settings as { alarmSounds: unknown; theme: string };
    expect(settings.alarmSounds).toEqual({ critical: "once", high: "repeat", medium: "off", low: "repeat" });
    expect(settings.theme).toBe("system");
    await until(() => screen.queryByText("Settings saved.") !== null, "the confirmation");
    expect(select("low").value).toBe("repeat");
  });

  test.each(["", "ws://localhost:9000/ws", "ws://127.0.0.1:9000", "ws://[::1]:9000/ws"])("%j is accepted", async (typed) => {
    const user = userEvent.setup();
    const { fake } = renderForm();
    // ("[" and "{" start key names for user-event: doubled, they are typed as such.)
    if (typed) await user.type(serverUrl(), typed.replace(/[[{]/g, "$&$&"));
    await user.click(save());
    await until(() => fake.callsOf("save_settings").length === 1, "save_settings");
    expect((fake.callsOf("save_settings")[0]!.args.settings as { serverUrl: string | null }).serverUrl).toBe(typed === "" ? null : typed);
  });

  test("a refusal from the Rust side is shown at the field it names", async () => {
    const user = userEvent.setup();
    const { fake } = renderForm();
    fake.on("save_settings", () => {
      throw { code: "invalid_input", message: "siteCaFile: /etc/ssl/nope.pem is not a readable file" };
    });
    await user.type(caFile(), "/etc/ssl/nope.pem");
    await user.click(save());
    await until(() => screen.queryByTestId("ca-file-error") !== null, "the field's error");
    expect(screen.getByTestId("ca-file-error").textContent).toBe("/etc/ssl/nope.pem is not a readable file");
    expect(screen.queryByText("Settings saved.")).toBeNull();
  });

  test("any other refusal is shown under the form", async () => {
    const user = userEvent.setup();
    const { fake } = renderForm();
    fake.on("save_settings", () => {
      throw { code: "internal", message: "could not write settings.json: disk full" };
    });
    await user.click(save());
    await until(() => screen.queryByText(/disk full/) !== null, "the error");
    expect(screen.getByText(/disk full/).textContent).toBe("Not saved: could not write settings.json: disk full");
  });
});

describe("the write-only token field", () => {
  test("never shows a token, only where it comes from; set, replace, forget", async () => {
    const user = userEvent.setup();
    const { fake } = renderForm(deskStatus({ demo: false, token: { source: "none", keychain: { state: "available" } } }));
    const field = screen.getByTestId("token-input") as HTMLInputElement;
    expect(field.type).toBe("password");
    expect(field.autocomplete).toBe("off");
    expect(field.value).toBe("");
    expect(screen.getByTestId("token-status").textContent).toMatch(/No token is set\. Keychain available\./);
    expect((screen.getByRole("button", { name: "Forget token" }) as HTMLButtonElement).disabled).toBe(true);

    await user.type(field, "s3cret-token");
    await user.click(screen.getByRole("button", { name: "Set token" }));
    await until(() => fake.callsOf("set_token").length === 1, "set_token");
    expect(fake.callsOf("set_token")[0]!.args).toEqual({ token: "s3cret-token", remember: true });
    await until(() => screen.getByTestId("token-status").dataset.source === "keychain", "the new status");
    expect(field.value).toBe("");
    expect(document.body.innerHTML).not.toContain("s3cret-token");
    expect(screen.getByTestId("token-status").textContent).toMatch(/A token is stored in the OS keychain/);

    // Now there is one: the field replaces it.
    expect(screen.getByRole("button", { name: "Replace token" })).toBeTruthy();
    await user.type(field, "second{Enter}");
    await until(() => fake.callsOf("set_token").length === 2, "the second set_token");
    expect(fake.callsOf("set_token")[1]!.args).toEqual({ token: "second", remember: true });

    await user.click(screen.getByRole("button", { name: "Forget token" }));
    await until(() => fake.callsOf("forget_token").length === 1, "forget_token");
    await until(() => screen.getByTestId("token-status").dataset.source === "none", "the status after forgetting");
    expect(screen.getByText("Token forgotten.")).toBeTruthy();
  });

  test("a keychain that is unavailable: the token can be used for this session only", async () => {
    const user = userEvent.setup();
    const { fake } = renderForm(
      deskStatus({ demo: false, token: { source: "none", keychain: { state: "unavailable", reason: "no Secret Service on the bus" } } }),
    );
    expect(screen.getByTestId("token-status").textContent).toMatch(/Keychain unavailable: no Secret Service on the bus/);
    expect(screen.queryByRole("button", { name: "Set token" })).toBeNull();
    await user.type(screen.getByTestId("token-input"), "abc");
    await user.click(screen.getByRole("button", { name: "Use for this session only" }));
    await until(() => fake.callsOf("set_token").length === 1, "set_token");
    expect(fake.callsOf("set_token")[0]!.args).toEqual({ token: "abc", remember: false });
    await until(() => screen.getByTestId("token-status").dataset.source === "session", "the session status");
    expect((screen.getByTestId("token-input") as HTMLInputElement).value).toBe("");
  });

  test("a keychain that refuses: offered for this session only, and the field is cleared", async () => {
    const user = userEvent.setup();
    const { fake } = renderForm(deskStatus({ demo: false, token: { source: "none", keychain: { state: "unknown" } } }));
    fake.on("set_token", () => {
      throw { code: "keychain_unavailable", message: "the keychain is locked" };
    });
    await user.type(screen.getByTestId("token-input"), "abc{Enter}");
    await until(() => screen.queryByRole("button", { name: "Use for this session only" }) !== null, "the offer");
    expect(screen.getByText(/Keychain unavailable: the keychain is locked/)).toBeTruthy();
    expect((screen.getByTestId("token-input") as HTMLInputElement).value).toBe("");
  });

  test("an empty token is not sent", async () => {
    const user = userEvent.setup();
    const { fake } = renderForm();
    await user.click(screen.getByRole("button", { name: "Set token" }));
    expect(screen.getByText("Enter a token first.")).toBeTruthy();
    expect(fake.callsOf("set_token")).toHaveLength(0);
  });
});
