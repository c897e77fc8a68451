// The alarm sound against a faked Rust side: the Silence button only while a sound repeats,
// silence_alarms (never an acknowledgement) from the button and from Ctrl+Shift+S anywhere,
// the silenced alarms still waiting, and a desk that cannot sound.

import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test } from "vitest";
import { ALARM_SOUND } from "../generated/station/events";
import { AlarmSound, isSilenceShortcut, silencedText } from "../state/sound.svelte";
import { FakeBackend, settle, until } from "../testing/fake-backend";
import { alarmSoundView, deskSnapshot } from "../testing/fixtures";
import SilenceButton from "./SilenceButton.svelte";

let fake: FakeBackend | undefined;
let sound: AlarmSound | undefined;

afterEach(() => {
  cleanup();
  sound?.stop();
  sound = undefined;
  fake?.uninstall();
  fake = undefined;
});

async function started(view = alarmSoundView()) {
  fake = new FakeBackend(deskSnapshot());
  fake.sound = view;
  sound = new AlarmSound();
  await sound.start();
  render(SilenceButton, { props: { sound } });
  return { fake, sound };
}

const SOUNDING = alarmSoundView({ sounding: true, playing: "critical" });
const button = () => screen.queryByTestId("silence-button");

describe("the Silence button", () => {
  test("shown only while a sound repeats, kept current by ALARM_SOUND", async () => {
    const { fake } = await started();
    expect(button()).toBeNull();

    await fake.emit(ALARM_SOUND, SOUNDING);
    const silence = screen.getByRole("button", { name: "Silence" });
    expect(silence).toBe(button());
    expect(silence.getAttribute("aria-keyshortcuts")).toBe("Control+Shift+S");
    expect(silence.title).toMatch(/Ctrl\+Shift\+S/);
    expect(silence.textContent).toMatch(/Silence\s*Ctrl\+Shift\+S/);
    expect(silence.querySelector("svg")?.getAttribute("aria-hidden")).toBe("true");
    expect(screen.getByTestId("sound-playing").dataset.severity).toBe("critical");

    await fake.emit(ALARM_SOUND, alarmSoundView());
    expect(button()).toBeNull();
  });

  test("shown at start when the desk already sounds", async () => {
    await started(SOUNDING);
    expect(button()).not.toBeNull();
  });

  test("a click silences and acknowledges nothing; the silenced alarms still waiting are told", async () => {
    const user = userEvent.setup();
    const { fake } = await started(SOUNDING);
    await user.click(button()!);
    await until(() => fake.callsOf("silence_alarms").length === 1, "silence_alarms");
    expect(fake.callsOf("silence_alarms")[0]!.args).toEqual({});
    expect(fake.callsOf("acknowledge_alarm")).toHaveLength(0);
    expect(fake.callsOf("acknowledge_all")).toHaveLength(0);

    // The Rust side tells the new state: quiet, two alarms silenced and unacknowledged.
    await fake.emit(ALARM_SOUND, alarmSoundView({ sounding: false, silenced: 2 }));
    await settle();
    expect(button()).toBeNull();
    expect(screen.getByTestId("silenced-note").textContent).toBe("Sound silenced: 2 alarms still unacknowledged");
    // The focus does not fall to nowhere with the button.
    expect(document.activeElement).toBe(screen.getByTestId("silenced-note"));

    await fake.emit(ALARM_SOUND, alarmSoundView({ silenced: 0 }));
    expect(screen.queryByTestId("silenced-note")).toBeNull();
  });

  test("a refused silence is told", async () => {
    const user = userEvent.setup();
    const { fake } = await started(SOUNDING);
    fake.on("silence_alarms", () => {
      throw { code: "internal", message: "the sound device hung up" };
    });
    await user.click(button()!);
    await until(() => screen.queryByTestId("silence-error") !== null, "the error");
    expect(screen.getByTestId("silence-error").textContent).toBe("Not silenced: the sound device hung up");
  });
});

describe("Ctrl+Shift+S", () => {
  test("silences from anywhere, a text field included, and keeps the key from the page", async () => {
    const user = userEvent.setup();
    const { fake } = await started(SOUNDING);
    const field = document.body.appendChild(document.createElement("input"));
    try {
      field.focus();
      await user.keyboard("{Control>}{Shift>}S{/Shift}{/Control}");
      await until(() => fake.callsOf("silence_alarms").length === 1, "silence_alarms");
      expect(field.value).toBe("");
      expect(fake.callsOf("acknowledge_alarm")).toHaveLength(0);

      const event = new KeyboardEvent("keydown", { key: "S", code: "KeyS", ctrlKey: true, shiftKey: true, bubbles: true, cancelable: true });
      expect(field.dispatchEvent(event)).toBe(false);
      expect(event.defaultPrevented).toBe(true);
      await until(() => fake.callsOf("silence_alarms").length === 2, "the second silence_alarms");
    } finally {
      field.remove();
    }
  });

  test("other keys are left alone; a held key silences once", async () => {
    const { fake } = await started(SOUNDING);
    expect(await fireEvent.keyDown(document.body, { key: "s", code: "KeyS", ctrlKey: true })).toBe(true);
    expect(await fireEvent.keyDown(document.body, { key: "A", code: "KeyA", ctrlKey: true, shiftKey: true })).toBe(true);
    expect(await fireEvent.keyDown(document.body, { key: "S", code: "KeyS", ctrlKey: true, shiftKey: true, altKey: true })).toBe(true);
    await settle();
    expect(fake.callsOf("silence_alarms")).toHaveLength(0);

    await fireEvent.keyDown(document.body, { key: "S", code: "KeyS", ctrlKey: true, shiftKey: true });
    await fireEvent.keyDown(document.body, { key: "S", code: "KeyS", ctrlKey: true, shiftKey: true, repeat: true });
    await settle();
    expect(fake.callsOf("silence_alarms")).toHaveLength(1);
  });

  test("the physical S key on a layout without Latin letters", () => {
    const key = (init: KeyboardEventInit) => new KeyboardEvent("keydown", { ctrlKey: true, shiftKey: true, ...init });
    expect(isSilenceShortcut(key({ key: "Ы", code: "KeyS" }))).toBe(true);
    expect(isSilenceShortcut(key({ key: "s", code: "KeyS" }))).toBe(true);
    // Dvorak: the letter S is where QWERTY has ";", and QWERTY's S key types "o".
    expect(isSilenceShortcut(key({ key: "S", code: "Semicolon" }))).toBe(true);
    expect(isSilenceShortcut(key({ key: "O", code: "KeyS" }))).toBe(false);
  });
});

describe("the desk's sound device", () => {
  test("a desk that cannot sound says why, in amber, not as an alarm", async () => {
    const { fake } = await started(alarmSoundView({}, { state: "unavailable", reason: "no audio output device" }));
    const notice = screen.getByTestId("sound-unavailable");
    expect(notice.textContent?.trim()).toBe("Alarm sounds cannot play: no audio output device");
    expect(notice.getAttribute("role")).toBe("status");
    expect(screen.queryByRole("alert")).toBeNull();

    await fake.emit(ALARM_SOUND, alarmSoundView({}, { state: "checking" }));
    expect(screen.queryByTestId("sound-unavailable")).toBeNull();
    await fake.emit(ALARM_SOUND, alarmSoundView({}, { state: "unavailable", reason: "the output was unplugged" }));
    expect(screen.getByTestId("sound-unavailable").textContent).toMatch(/the output was unplugged/);
  });

  test("a desk that plays no sound (null) shows nothing", async () => {
    fake = new FakeBackend(deskSnapshot());
    sound = new AlarmSound();
    await sound.start();
    render(SilenceButton, { props: { sound } });
    expect(fake.callsOf("alarm_sound")).toHaveLength(1);
    expect(sound.view).toBeNull();
    expect(button()).toBeNull();
    expect(screen.queryByTestId("sound-unavailable")).toBeNull();
    expect(screen.queryByTestId("silenced-note")).toBeNull();
  });

  test("an event newer than the answer to alarm_sound wins", async () => {
    fake = new FakeBackend(deskSnapshot());
    let answer: ((v: unknown) => void) | undefined;
    fake.on("alarm_sound", () => new Promise((resolve) => (answer = resolve)));
    sound = new AlarmSound();
    const starting = sound.start();
    await until(() => answer !== undefined, "alarm_sound");
    await fake.emit(ALARM_SOUND, SOUNDING);
    answer!(alarmSoundView());
    await starting;
    await settle();
    expect(sound.sounding).toBe(true);
  });
});

test("the note counts one alarm or several", () => {
  expect(silencedText(0)).toBeNull();
  expect(silencedText(1)).toBe("Sound silenced: 1 alarm still unacknowledged");
  expect(silencedText(3)).toBe("Sound silenced: 3 alarms still unacknowledged");
});
