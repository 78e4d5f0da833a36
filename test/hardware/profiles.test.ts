// The hardware data (hardware/) and its loader (host-tools/hardware/profiles.ts):
// the shipped files validate and say what the boards and regions really are, and
// broken copies are rejected with messages that name the file and the key.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  HardwareDataError,
  PIN_NAMES,
  RADIO_CHIPS,
  checkBoard,
  conductedLimitDbm,
  findBoardsByUsb,
  findPreset,
  findRegion,
  hardwareDir,
  loadBoard,
  loadBoards,
  loadPresets,
  loadRegionTable,
  loadRegions,
  rulesAt,
  type BoardProfile,
} from "../../host-tools/hardware/profiles.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const HW = path.join(REPO, "hardware");

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A scratch copy of hardware/ whose files the test may break. */
function scratchHardware(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "outcaxt-hw-"));
  temps.push(dir);
  cpSync(HW, dir, { recursive: true });
  return dir;
}

type Json = Record<string, any>;

function edit(file: string, change: (data: Json) => void): void {
  const data = JSON.parse(readFileSync(file, "utf8")) as Json;
  change(data);
  writeFileSync(file, JSON.stringify(data, null, 2));
}

/** Runs `load`, expects a HardwareDataError, and checks one issue names the file and key. */
function expectIssue(load: () => unknown, file: string, key: string, fragment: string | RegExp): HardwareDataError {
  let caught: unknown;
  try {
    load();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HardwareDataError);
  const err = caught as HardwareDataError;
  const hit = err.issues.find((i) => i.file === file && i.key === key);
  expect(hit, `no issue for ${key} in ${file}; got:\n${err.message}`).toBeDefined();
  if (typeof fragment === "string") expect(hit!.message).toContain(fragment);
  else expect(hit!.message).toMatch(fragment);
  // The thrown message itself names the file and the key.
  expect(err.message).toContain(`${file}: ${key}: `);
  return err;
}

const usedPins = (b: BoardProfile): number[] => [
  ...PIN_NAMES.flatMap((n) => (b.pins[n] === undefined ? [] : [b.pins[n] as number])),
  ...(b.led === null ? [] : [b.led]),
  ...(b.button === null ? [] : [b.button]),
];

describe("shipped board profiles", () => {
  const boards = loadBoards();
  const byId = new Map(boards.map((b) => [b.id, b]));

  it("finds the hardware folder next to the sources", () => {
    expect(hardwareDir()).toBe(HW);
  });

  it("include the required boards, each validating on its own", () => {
    expect(boards.map((b) => b.id).sort()).toEqual([
      "heltec-wifi-lora-32-v3",
      "lilygo-t3-s3-sx1262",
      "lilygo-t3-v1.6.1",
      "lilygo-tbeam-v1.1-sx1262",
      "lilygo-tbeam-v1.1-sx1276",
      "seeed-xiao-esp32s3-wio-sx1262",
    ]);
    for (const b of boards) {
      const data = JSON.parse(readFileSync(b.file, "utf8"));
      expect(checkBoard(data, b.file), b.id).toEqual([]);
    }
  });

  it("record the MCU and radio each board is sold with", () => {
    const summary = Object.fromEntries(boards.map((b) => [b.id, `${b.mcu.chip}/${b.radio.chip}/${b.flashSizeMB}MB`]));
    expect(summary).toEqual({
      "heltec-wifi-lora-32-v3": "esp32s3/sx1262/8MB",
      "lilygo-t3-s3-sx1262": "esp32s3/sx1262/4MB",
      "lilygo-t3-v1.6.1": "esp32/sx1276/4MB",
      "lilygo-tbeam-v1.1-sx1262": "esp32/sx1262/4MB",
      "lilygo-tbeam-v1.1-sx1276": "esp32/sx1276/4MB",
      "seeed-xiao-esp32s3-wio-sx1262": "esp32s3/sx1262/8MB",
    });
  });

  it("use each GPIO for one function only", () => {
    for (const b of boards) {
      const pins = usedPins(b);
      expect(new Set(pins).size, b.id).toBe(pins.length);
    }
  });

  it("wire BUSY on every SX1262 board and DIO0 on every SX1276 board", () => {
    const sx1262 = boards.filter((b) => b.radio.chip === "sx1262");
    const sx1276 = boards.filter((b) => b.radio.chip === "sx1276");
    expect(sx1262.length).toBe(4);
    expect(sx1276.length).toBe(2);
    for (const b of sx1262) {
      expect(b.pins.busy, b.id).toBeTypeOf("number");
      expect(b.pins.dio1, b.id).toBeTypeOf("number");
      expect(b.pins.dio0, b.id).toBeUndefined();
    }
    for (const b of sx1276) {
      expect(b.pins.dio0, b.id).toBeTypeOf("number");
      expect(b.pins.busy, b.id).toBeUndefined();
      expect(b.radio.tcxoVoltage, b.id).toBeNull();
    }
  });

  it("keep TX power within what the radio chip can be programmed to", () => {
    for (const b of boards) {
      const chip = RADIO_CHIPS[b.radio.chip];
      expect(b.radio.maxTxPowerDbm).toBeGreaterThanOrEqual(chip.minTxPowerDbm);
      expect(b.radio.maxTxPowerDbm).toBeLessThanOrEqual(chip.maxTxPowerDbm);
    }
    expect(byId.get("lilygo-t3-v1.6.1")!.radio.maxTxPowerDbm).toBe(20);
    expect(byId.get("heltec-wifi-lora-32-v3")!.radio.maxTxPowerDbm).toBe(22);
  });

  it("carry the pin maps the vendors publish", () => {
    expect(byId.get("heltec-wifi-lora-32-v3")!.pins).toEqual({ nss: 8, sck: 9, mosi: 10, miso: 11, reset: 12, busy: 13, dio1: 14 });
    expect(byId.get("lilygo-t3-s3-sx1262")!.pins).toEqual({ nss: 7, sck: 5, mosi: 6, miso: 3, reset: 8, busy: 34, dio1: 33 });
    expect(byId.get("lilygo-tbeam-v1.1-sx1276")!.pins).toEqual({ nss: 18, sck: 5, mosi: 27, miso: 19, reset: 23, dio0: 26, dio1: 33 });
    const xiao = byId.get("seeed-xiao-esp32s3-wio-sx1262")!;
    expect(xiao.radio.rfSwitch).toBe("dio2+gpio");
    expect(xiao.pins.rxEnable).toBe(38);
    expect(byId.get("lilygo-t3-v1.6.1")!.button).toBeNull();
  });

  it("give the T-Beams their PMU (AXP192 LDO2 or AXP2101 ALDO2 at 3.3 V, 0x34 on SDA 21 / SCL 22) and no other board one", () => {
    for (const b of loadBoards()) {
      if (b.family === "lilygo-tbeam-v1.1") {
        expect(b.pmu, b.id).toEqual({
          i2cAddress: 0x34, sda: 21, scl: 22, radioMillivolts: 3300,
          chips: [{ chip: "axp192", radioRail: "ldo2" }, { chip: "axp2101", radioRail: "aldo2" }],
        });
      } else {
        expect(b.pmu, b.id).toBeUndefined();
      }
    }
  });

  it("source every value or mark it unverified", () => {
    for (const b of boards) {
      for (const key of ["mcu.chip", "flashSizeMB", "radio.tcxoVoltage", "led", "button", "usb[0]", ...Object.keys(b.pins).map((p) => `pins.${p}`)]) {
        const cited = b.sources[key] ?? [];
        expect(cited.length > 0 || b.unverified.includes(key), `${b.id}: ${key}`).toBe(true);
        for (const id of cited) expect(b.references[id], `${b.id}: ${id}`).toBeDefined();
      }
    }
    expect(byId.get("lilygo-tbeam-v1.1-sx1276")!.unverified).toContain("radio.rfSwitch");
  });

  it("loads one board by id and names the known ones for an unknown id", () => {
    expect(loadBoard("lilygo-t3-s3-sx1262").mcu.part).toBe("ESP32-S3FH4R2");
    expect(() => loadBoard("no-such-board")).toThrow(/known: .*heltec-wifi-lora-32-v3/);
  });
});

describe("findBoardsByUsb", () => {
  const boards = loadBoards();
  const ids = (vid: number | string, pid: number | string) => findBoardsByUsb(vid, pid, boards).map((b) => b.id);

  it("finds the boards behind each bridge", () => {
    expect(ids(0x10c4, 0xea60)).toEqual(["heltec-wifi-lora-32-v3"]);
    expect(ids("1a86", "55d4")).toEqual(["lilygo-t3-v1.6.1", "lilygo-tbeam-v1.1-sx1262", "lilygo-tbeam-v1.1-sx1276"]);
    expect(ids("0x303A", "0x1001")).toEqual(["lilygo-t3-s3-sx1262", "seeed-xiao-esp32s3-wio-sx1262"]);
  });

  it("finds nothing for other ids and rejects malformed ones", () => {
    expect(ids(0x1a86, 0x7523)).toEqual([]);
    expect(ids(0x303a, 0x1002)).toEqual([]);
    expect(() => ids("zz", "1001")).toThrow(RangeError);
    expect(() => ids(0x10000, 1)).toThrow(RangeError);
  });

  it("loads the shipped profiles by default", () => {
    expect(findBoardsByUsb(0x10c4, 0xea60).map((b) => b.id)).toEqual(["heltec-wifi-lora-32-v3"]);
  });
});

describe("broken board profiles", () => {
  const heltec = "heltec-wifi-lora-32-v3.json";
  const tbeam76 = "lilygo-tbeam-v1.1-sx1276.json";

  function broken(file: string, change: (d: Json) => void): { dir: string; file: string; load: () => BoardProfile[] } {
    const root = scratchHardware();
    const dir = path.join(root, "boards");
    const target = path.join(dir, file);
    edit(target, change);
    return { dir, file: target, load: () => loadBoards(dir, path.join(root, "schema")) };
  }

  it("an untouched copy loads (so the failures below come from the edits)", () => {
    const root = scratchHardware();
    expect(loadBoards(path.join(root, "boards"), path.join(root, "schema"))).toHaveLength(6);
  });

  it("rejects an unknown key", () => {
    const b = broken(heltec, (d) => (d.pins.cs = 5));
    expectIssue(b.load, b.file, "pins.cs", "unknown key");
  });

  it("rejects an unknown top-level key", () => {
    const b = broken(heltec, (d) => (d.frequency = 915));
    expectIssue(b.load, b.file, "frequency", "unknown key");
  });

  it("rejects a duplicated pin", () => {
    const b = broken(heltec, (d) => (d.pins.dio1 = 8));
    expectIssue(b.load, b.file, "pins.dio1", "GPIO 8 is already used by pins.nss");
  });

  it("rejects an LED on a radio pin", () => {
    const b = broken(heltec, (d) => (d.led = 13));
    expectIssue(b.load, b.file, "led", "GPIO 13 is already used by pins.busy");
  });

  it("rejects a string pin", () => {
    const b = broken(heltec, (d) => (d.pins.nss = "8"));
    expectIssue(b.load, b.file, "pins.nss", 'must be integer, got the string "8"');
  });

  it("rejects a pin outside 0..48", () => {
    const b = broken(heltec, (d) => (d.pins.reset = 49));
    expectIssue(b.load, b.file, "pins.reset", "must be <= 48");
  });

  it("rejects a missing field", () => {
    const b = broken(heltec, (d) => delete d.radio.maxTxPowerDbm);
    expectIssue(b.load, b.file, "radio.maxTxPowerDbm", "required key is missing");
  });

  it("rejects a missing LED entry (null is required when there is none)", () => {
    const b = broken(heltec, (d) => delete d.led);
    expectIssue(b.load, b.file, "led", "required key is missing");
  });

  it("rejects an SX1262 board without BUSY", () => {
    const b = broken(heltec, (d) => delete d.pins.busy);
    expectIssue(b.load, b.file, "pins.busy", /required key is missing \(rule: SX1262/);
  });

  it("rejects an SX1276 board without DIO0, or with BUSY", () => {
    const noDio0 = broken(tbeam76, (d) => delete d.pins.dio0);
    expectIssue(noDio0.load, noDio0.file, "pins.dio0", /required key is missing \(rule: SX1276/);
    const withBusy = broken(tbeam76, (d) => (d.pins.busy = 32));
    expectIssue(withBusy.load, withBusy.file, "pins.busy", "not allowed here");
  });

  it("rejects TX power beyond the radio chip", () => {
    const sx1276 = broken(tbeam76, (d) => (d.radio.maxTxPowerDbm = 22));
    expectIssue(sx1276.load, sx1276.file, "radio.maxTxPowerDbm", "must be <= 20");
    const sx1262 = broken(heltec, (d) => (d.radio.maxTxPowerDbm = 23));
    expectIssue(sx1262.load, sx1262.file, "radio.maxTxPowerDbm", "must be <= 22");
  });

  it("rejects a TCXO or DIO2 switch on an SX1276", () => {
    const b = broken(tbeam76, (d) => {
      d.radio.tcxoVoltage = 1.8;
      d.radio.rfSwitch = "dio2";
    });
    expectIssue(b.load, b.file, "radio.tcxoVoltage", "must be null");
    expectIssue(b.load, b.file, "radio.rfSwitch", 'must be one of "gpio", "none"');
  });

  it("rejects GPIOs the MCU does not have or cannot use", () => {
    const missing = broken(heltec, (d) => (d.pins.reset = 24));
    expectIssue(missing.load, missing.file, "pins.reset", "GPIO 24 does not exist on esp32s3");
    const inputOnly = broken(tbeam76, (d) => (d.pins.nss = 36));
    expectIssue(inputOnly.load, inputOnly.file, "pins.nss", "input-only");
    const flash = broken(tbeam76, (d) => (d.pins.dio1 = 7));
    expectIssue(flash.load, flash.file, "pins.dio1", "taken by the SPI flash");
    const psram = broken("seeed-xiao-esp32s3-wio-sx1262.json", (d) => (d.pins.busy = 35));
    expectIssue(psram.load, psram.file, "pins.busy", "taken by the octal PSRAM on ESP32-S3R8");
  });

  it("rejects an RF switch mode that does not match the switch pins", () => {
    const b = broken(heltec, (d) => (d.radio.rfSwitch = "gpio"));
    expectIssue(b.load, b.file, "radio.rfSwitch", "needs pins.rxEnable or pins.txEnable");
  });

  it("rejects USB ids that do not belong to the named bridge", () => {
    const b = broken(heltec, (d) => (d.usb[0].productId = "ea61"));
    expectIssue(b.load, b.file, "usb[0]", "cp2102 enumerates as 10c4:ea60, not 10c4:ea61");
    const upper = broken(heltec, (d) => (d.usb[0].vendorId = "10C4"));
    expectIssue(upper.load, upper.file, "usb[0].vendorId", "must match pattern");
    const native = broken(tbeam76, (d) => (d.usb[0] = { vendorId: "303a", productId: "1001", chip: "esp32s3-usb-serial-jtag" }));
    expectIssue(native.load, native.file, "usb[0]", "esp32 has no built-in USB");
  });

  it("rejects a pmu section of the wrong shape, and PMU pins that clash or are unsourced", () => {
    const wrongType = broken(tbeam76, (d) => (d.pmu.i2cAddress = "0x34"));
    expectIssue(wrongType.load, wrongType.file, "pmu.i2cAddress", "must be integer");
    const notObject = broken(heltec, (d) => (d.pmu = "axp192"));
    expectIssue(notObject.load, notObject.file, "pmu", "must be object");
    const wrongRail = broken(tbeam76, (d) => (d.pmu.chips[0].radioRail = "aldo2")); // AXP192 has no ALDO2
    expectIssue(wrongRail.load, wrongRail.file, "pmu.chips[0]", "must match exactly one schema");
    const unknownChip = broken(tbeam76, (d) => (d.pmu.chips[1].chip = "axp202"));
    expectIssue(unknownChip.load, unknownChip.file, "pmu.chips[1]", "must match exactly one schema");
    const badVoltage = broken(tbeam76, (d) => (d.pmu.radioMillivolts = 3250));
    expectIssue(badVoltage.load, badVoltage.file, "pmu.radioMillivolts", "must be multiple of 100");
    const missing = broken(tbeam76, (d) => delete d.pmu.scl);
    expectIssue(missing.load, missing.file, "pmu.scl", "required key is missing");
    const twice = broken(tbeam76, (d) => (d.pmu.chips[1] = { chip: "axp192", radioRail: "ldo3" }));
    expectIssue(twice.load, twice.file, "pmu.chips[1]", "axp192 is listed twice");
    const clash = broken(tbeam76, (d) => (d.pmu.sda = 18));
    expectIssue(clash.load, clash.file, "pmu.sda", "GPIO 18 is already used by pins.nss");
    const inputOnly = broken(tbeam76, (d) => (d.pmu.scl = 36));
    expectIssue(inputOnly.load, inputOnly.file, "pmu.scl", "input-only");
    const unsourced = broken(tbeam76, (d) => delete d.sources["pmu.chips[1]"]);
    expectIssue(unsourced.load, unsourced.file, "sources.pmu.chips[1]", "no source given for pmu.chips[1]");
    const stale = broken(heltec, (d) => (d.sources["pmu.sda"] = ["meshtastic-heltec-v3"]));
    expectIssue(stale.load, stale.file, "sources.pmu.sda", "not a sourced value");
  });

  it("rejects values without a source, and sources citing unknown references", () => {
    const unsourced = broken(heltec, (d) => delete d.sources["pins.busy"]);
    expectIssue(unsourced.load, unsourced.file, "sources.pins.busy", "no source given for pins.busy");
    const unknownRef = broken(heltec, (d) => d.sources["pins.nss"].push("made-up"));
    expectIssue(unknownRef.load, unknownRef.file, "sources.pins.nss", 'unknown reference "made-up"');
    const stale = broken(heltec, (d) => (d.sources["pins.dio0"] = ["meshtastic-heltec-v3"]));
    expectIssue(stale.load, stale.file, "sources.pins.dio0", "not a sourced value");
    const unused = broken(heltec, (d) => (d.references.extra = { title: "t", publisher: "p", kind: "community" }));
    expectIssue(unused.load, unused.file, "references.extra", "never cited");
    const badUnverified = broken(heltec, (d) => d.unverified.push("pins.dio0"));
    expectIssue(badUnverified.load, badUnverified.file, "unverified[0]", "not a sourced value");
  });

  it("rejects an id that does not match the file name", () => {
    const b = broken(heltec, (d) => (d.id = "heltec-v3"));
    expectIssue(b.load, b.file, "id", 'must match the file name "heltec-wifi-lora-32-v3"');
  });

  it("reports problems in several files at once", () => {
    const root = scratchHardware();
    const dir = path.join(root, "boards");
    edit(path.join(dir, heltec), (d) => (d.pins.cs = 1));
    edit(path.join(dir, tbeam76), (d) => delete d.button);
    const err = expectIssue(() => loadBoards(dir, path.join(root, "schema")), path.join(dir, heltec), "pins.cs", "unknown key");
    expect(err.issues.some((i) => i.file === path.join(dir, tbeam76) && i.key === "button")).toBe(true);
  });

  it("rejects a file that is not JSON", () => {
    const root = scratchHardware();
    const file = path.join(root, "boards", heltec);
    writeFileSync(file, "{ not json");
    expectIssue(() => loadBoards(path.join(root, "boards"), path.join(root, "schema")), file, "(file)", "not valid JSON");
  });
});

describe("region table", () => {
  const regions = loadRegions();
  const presets = loadPresets();
  const longFast = findPreset(presets);

  it("covers the required regions", () => {
    expect(regions.map((r) => r.id)).toEqual(expect.arrayContaining(["US915", "EU868", "EU433", "ANZ", "JP", "IN"]));
  });

  it("gives EU868 its g1 and g3 sub-bands", () => {
    const eu = findRegion(regions, "EU868");
    const g3 = eu.subBands.find((s) => s.id === "g3")!;
    expect(g3).toMatchObject({ startMHz: 869.4, endMHz: 869.65, maxPowerDbm: 27, powerReference: "erp", dutyCyclePercent: 10, dutyCycleWindowSeconds: 3600 });
    const g1 = eu.subBands.find((s) => s.id === "g1")!;
    expect(g1).toMatchObject({ startMHz: 868.0, endMHz: 868.6, maxPowerDbm: 14, powerReference: "erp", dutyCyclePercent: 1, dutyCycleWindowSeconds: 3600 });
    expect(eu.defaultFrequencyMHz).toBe(869.525);
  });

  it("matches the lora-phy.md table for the other regions", () => {
    const row = (id: string) => {
      const r = findRegion(regions, id);
      return [r.bandStartMHz, r.bandEndMHz, r.maxPowerDbm, r.dutyCyclePercent, r.lbtRequired];
    };
    expect(row("US915")).toEqual([902, 928, 30, null, false]);
    expect(row("EU433")).toEqual([433.05, 434.79, 10, 10, false]);
    expect(row("ANZ")).toEqual([915, 928, 30, null, false]);
    expect(row("JP")).toEqual([920.5, 923.5, 13, null, true]);
    expect(row("IN")).toEqual([865, 867, 30, null, false]);
  });

  it("counts duty cycle over a rolling hour, and only where there is one", () => {
    for (const r of regions) {
      for (const rule of [r, ...r.subBands]) {
        expect(rule.dutyCycleWindowSeconds).toBe(rule.dutyCyclePercent === null ? null : 3600);
      }
    }
  });

  it("lets the default preset run on every region's default channel", () => {
    for (const r of regions) {
      const rule = rulesAt(r, r.defaultFrequencyMHz, longFast.bandwidthKHz);
      expect(rule, r.id).not.toBeNull();
      expect(rule!.maxPowerDbm, r.id).toBe(r.maxPowerDbm);
    }
  });

  it("picks the sub-band that holds a channel, and refuses channels outside them", () => {
    const eu = findRegion(regions, "EU868");
    expect(rulesAt(eu, 868.3, 125)).toMatchObject({ subBand: "g1", maxPowerDbm: 14, dutyCyclePercent: 1 });
    expect(rulesAt(eu, 869.0, 250)).toMatchObject({ subBand: "g2", dutyCyclePercent: 0.1 });
    expect(rulesAt(eu, 869.525, 250)).toMatchObject({ subBand: "g3", dutyCyclePercent: 10 });
    expect(rulesAt(eu, 869.525, 500)).toBeNull(); // 500 kHz does not fit g3
    expect(rulesAt(eu, 868.65, 125)).toBeNull(); // gap between g1 and g2
    const us = findRegion(regions, "US915");
    expect(rulesAt(us, 927.9, 250)).toBeNull(); // spills over 928 MHz
    expect(rulesAt(us, 903, 125)).toMatchObject({ subBand: null, maxPowerDbm: 30 });
  });

  it("converts limits to antenna-port power", () => {
    expect(conductedLimitDbm({ maxPowerDbm: 27, powerReference: "erp" }, 2.15)).toBeCloseTo(27);
    expect(conductedLimitDbm({ maxPowerDbm: 30, powerReference: "eirp" }, 6)).toBe(24);
    expect(conductedLimitDbm({ maxPowerDbm: 13, powerReference: "conducted" }, 3)).toBe(13);
  });

  it("names what it cannot confirm", () => {
    expect(findRegion(regions, "US915").unverified).toEqual(expect.arrayContaining(["maxPowerDbm", "powerReference"]));
    expect(findRegion(regions, "KR920").unverified).toContain("maxPowerDbm");
  });
});

describe("broken region tables", () => {
  function broken(change: (d: Json) => void): { file: string; load: () => unknown } {
    const root = scratchHardware();
    const file = path.join(root, "regions.json");
    edit(file, change);
    return { file, load: () => loadRegionTable(root) };
  }
  const eu = (d: Json) => d.regions.find((r: Json) => r.id === "EU868");
  const euIndex = (d: Json) => d.regions.findIndex((r: Json) => r.id === "EU868");
  let idx = -1;

  it("rejects an unknown key in a sub-band", () => {
    const b = broken((d) => {
      idx = euIndex(d);
      eu(d).subBands[2].dutycycle = 10;
    });
    expectIssue(b.load, b.file, `regions[${idx}].subBands[2].dutycycle`, "unknown key");
  });

  it("rejects a duty cycle without its window", () => {
    const b = broken((d) => {
      idx = euIndex(d);
      eu(d).subBands[0].dutyCycleWindowSeconds = null;
    });
    expectIssue(b.load, b.file, `regions[${idx}].subBands[0].dutyCycleWindowSeconds`, "null exactly when dutyCyclePercent is null");
  });

  it("rejects sub-bands outside the band or overlapping", () => {
    const outside = broken((d) => {
      idx = euIndex(d);
      eu(d).subBands[2].endMHz = 870.5;
    });
    expectIssue(outside.load, outside.file, `regions[${idx}].subBands[2].startMHz`, "lies outside the band");
    const overlap = broken((d) => {
      idx = euIndex(d);
      eu(d).subBands[1].startMHz = 868.5;
    });
    expectIssue(overlap.load, overlap.file, `regions[${idx}].subBands`, "g1 and g2 overlap");
  });

  it("rejects a default channel that is outside every sub-band or the band", () => {
    const gap = broken((d) => {
      idx = euIndex(d);
      eu(d).defaultFrequencyMHz = 869.3;
    });
    expectIssue(gap.load, gap.file, `regions[${idx}].defaultFrequencyMHz`, "not inside any sub-band");
    const edge = broken((d) => {
      idx = d.regions.findIndex((r: Json) => r.id === "US915");
      d.regions[idx].defaultFrequencyMHz = 927.95;
    });
    expectIssue(edge.load, edge.file, `regions[${idx}].defaultFrequencyMHz`, "does not fit the band 902-928 MHz");
  });

  it("rejects region-level rules that differ from the default channel's sub-band", () => {
    const b = broken((d) => {
      idx = euIndex(d);
      eu(d).dutyCyclePercent = 1;
    });
    expectIssue(b.load, b.file, `regions[${idx}].maxPowerDbm`, "must equal those of sub-band g3");
  });

  it("rejects a missing field and a wrong power reference", () => {
    const missing = broken((d) => {
      idx = euIndex(d);
      delete eu(d).lbtRequired;
    });
    expectIssue(missing.load, missing.file, `regions[${idx}].lbtRequired`, "required key is missing");
    const ref = broken((d) => {
      idx = euIndex(d);
      eu(d).powerReference = "ERP";
    });
    expectIssue(ref.load, ref.file, `regions[${idx}].powerReference`, 'must be one of "erp", "eirp", "conducted"');
  });

  it("rejects an unsourced value", () => {
    const b = broken((d) => {
      idx = euIndex(d);
      delete eu(d).sources.maxPowerDbm;
    });
    expectIssue(b.load, b.file, `regions[${idx}].sources.maxPowerDbm`, "no source given");
  });
});

describe("modem presets", () => {
  const presets = loadPresets();

  it("match lora-phy.md", () => {
    const table = Object.fromEntries(presets.presets.map((p) => [p.id, `${p.bandwidthKHz}/${p.spreadingFactor}/${p.codingRate}`]));
    expect(table).toEqual({
      LongFast: "250/11/4/5",
      LongSlow: "125/12/4/8",
      LongModerate: "125/11/4/8",
      MediumSlow: "250/10/4/5",
      MediumFast: "250/9/4/5",
      ShortSlow: "250/8/4/5",
      ShortFast: "250/7/4/5",
      ShortTurbo: "500/7/4/5",
    });
    expect(presets.defaultPreset).toBe("LongFast");
    expect(presets.preambleSymbols).toBe(16);
    expect(presets.syncWord).toBe("private");
    expect(() => findPreset(presets, "Turbo")).toThrow(/known: LongFast/);
  });

  it("reject an unknown default, an unsupported spreading factor and duplicates", () => {
    const root = scratchHardware();
    const file = path.join(root, "presets.json");
    edit(file, (d) => {
      d.defaultPreset = "VeryLongFast";
      d.presets[1].spreadingFactor = 13;
      d.presets[2].id = "LongFast";
    });
    expectIssue(() => loadPresets(root), file, "presets[1].spreadingFactor", "must be <= 12");
    edit(file, (d) => (d.presets[1].spreadingFactor = 12));
    expectIssue(() => loadPresets(root), file, "defaultPreset", '"VeryLongFast" is not one of the presets');
    expectIssue(() => loadPresets(root), file, "presets[2].id", 'duplicate preset "LongFast"');
  });
});

describe("compiled module", () => {
  it("finds hardware/ from dist/host-tools/hardware/", () => {
    const root = mkdtempSync(path.join(tmpdir(), "outcaxt-dist-"));
    temps.push(root);
    const out = path.join(root, "dist", "host-tools", "hardware");
    const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
    // rootDir host-tools/: profiles.ts imports ../validation/, which lands beside it as in dist/.
    execFileSync(process.execPath, [tsc, path.join(REPO, "host-tools", "hardware", "profiles.ts"),
      "--rootDir", path.join(REPO, "host-tools"), "--outDir", path.dirname(out),
      "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--strict", "--skipLibCheck", "--types", "node"], { stdio: "pipe" });
    symlinkSync(HW, path.join(root, "hardware"));
    symlinkSync(path.join(REPO, "node_modules"), path.join(root, "node_modules"));
    writeFileSync(path.join(root, "package.json"), JSON.stringify({ type: "module" }));
    const script = `import { hardwareDir, loadBoards, loadRegions } from ${JSON.stringify(path.join(out, "profiles.js"))};
      console.log(JSON.stringify({ dir: hardwareDir(), boards: loadBoards().length, regions: loadRegions().length }));`;
    const result = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" }));
    expect(result).toEqual({ dir: path.join(root, "hardware"), boards: 6, regions: 7 });
    expect(existsSync(path.join(out, "profiles.js"))).toBe(true);
  });
});
