// A desktop whose locale is C or POSIX (kiosks, minimal sessions) gives the webview
// `navigator.language === "C"`, which is no BCP 47 tag: `Intl` throws on it, and uPlot calls
// `new Intl.NumberFormat(navigator.language)` as it loads. Such a desktop gets "en-US".

/** Makes `navigator.language` a tag `Intl` accepts; returns the tag in use. */
export function saneLanguage(nav: Navigator = navigator): string {
  try {
    new Intl.NumberFormat(nav.language);
    return nav.language;
  } catch {
    Object.defineProperty(nav, "language", { value: "en-US", configurable: true });
    return "en-US";
  }
}
