import assert from 'node:assert/strict';
import { test } from 'node:test';
import { popoverPosition } from '../../src/app/service/tray-popover.js';

const screen = { x: 0, y: 0, width: 1920, height: 1080 };
const size = { width: 360, height: 480 };

test('a menu bar icon at the top opens the popover below it, centred on the icon', () => {
  const workArea = { x: 0, y: 25, width: 1920, height: 1055 };
  assert.deepEqual(popoverPosition({ x: 1500, y: 0, width: 22, height: 24 }, { x: 0, y: 0 }, workArea, size), {
    x: 1331,
    y: 28,
  });
});

test('a taskbar icon at the bottom opens it above, kept inside the right edge', () => {
  const workArea = { x: 0, y: 0, width: 1920, height: 1040 };
  assert.deepEqual(popoverPosition({ x: 1890, y: 1045, width: 24, height: 30 }, { x: 0, y: 0 }, workArea, size), {
    x: 1560,
    y: 560,
  });
});

test("without the icon's bounds (most Linux trays) the pointer stands in, and the popover stays on screen", () => {
  assert.deepEqual(popoverPosition({ x: 0, y: 0, width: 0, height: 0 }, { x: 1910, y: 5 }, screen, size), {
    x: 1560,
    y: 9,
  });
  assert.deepEqual(popoverPosition({ x: 0, y: 0, width: 0, height: 0 }, { x: 5, y: 1075 }, screen, size), {
    x: 0,
    y: 591,
  });
});

test('a second display to the left (negative coordinates) is honoured', () => {
  const left = { x: -1280, y: 0, width: 1280, height: 1024 };
  assert.deepEqual(popoverPosition({ x: -30, y: 1000, width: 24, height: 24 }, { x: 0, y: 0 }, left, size), {
    x: -360,
    y: 516,
  });
});
