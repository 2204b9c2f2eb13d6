import { createKeepAlive, SLICE_MS } from '../../../src/http/keep-alive.js';

interface Member {
  name: number;
  alive: boolean;
}

function setup(intervalMs: number, members: number) {
  const pinged: number[][] = [];
  const cut: number[] = [];
  let pings: number[] = [];
  const keepAlive = createKeepAlive<Member>({
    intervalMs,
    ping: (member) => pings.push(member.name),
    cut: (member) => cut.push(member.name),
    timer: false,
  });
  const all = Array.from({ length: members }, (_, name) => ({ name, alive: true }));
  for (const member of all) keepAlive.add(member);
  const tick = () => {
    pings = [];
    keepAlive.tick();
    pinged.push(pings);
  };
  return { keepAlive, all, pinged, cut, tick };
}

it('cuts the interval into slices of SLICE_MS, at least one', () => {
  expect(setup(15_000, 0).keepAlive.slices).toBe(15_000 / SLICE_MS);
  expect(setup(1_000, 0).keepAlive.slices).toBe(1_000 / SLICE_MS);
  expect(setup(10, 0).keepAlive.slices).toBe(1);
});

it('pings every socket once per interval, spread evenly over its slices rather than all at once', () => {
  const { keepAlive, all, pinged, tick } = setup(15_000, 10_000);
  for (let n = 0; n < keepAlive.slices; n += 1) {
    tick();
    for (const member of all) member.alive = true;
  }
  const counts = pinged.map((names) => names.length);
  expect(Math.max(...counts)).toBe(Math.ceil(10_000 / keepAlive.slices));
  expect(Math.min(...counts)).toBe(Math.floor(10_000 / keepAlive.slices));
  expect(new Set(pinged.flat()).size).toBe(10_000);
  expect(pinged.flat()).toHaveLength(10_000);
});

it('cuts a socket that has not answered its previous ping when its slice comes round again, and only it', () => {
  const { keepAlive, all, cut, tick } = setup(1_000, 20);
  // One interval: every socket pinged; all answer but socket 3.
  for (let n = 0; n < keepAlive.slices; n += 1) tick();
  for (const member of all) member.alive = member.name !== 3;
  expect(cut).toEqual([]);
  for (let n = 0; n < keepAlive.slices; n += 1) tick();
  expect(cut).toEqual([3]);
});

it('forgets a socket removed: it is neither pinged nor cut', () => {
  const { keepAlive, all, pinged, cut, tick } = setup(1_000, 5);
  keepAlive.remove(all[2]!);
  all[2]!.alive = false;
  for (let n = 0; n < 2 * keepAlive.slices; n += 1) tick();
  expect(pinged.flat()).not.toContain(2);
  expect(cut).not.toContain(2);
});
