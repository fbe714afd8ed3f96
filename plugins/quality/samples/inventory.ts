// A small inventory model, written for the highlighter comparison.
import { readFileSync } from "fs";

export type Sku = string;

export interface Item {
  sku: Sku;
  name: string;
  quantity: number;
  tags?: readonly string[];
}

export enum Status {
  InStock = "in-stock",
  Low = "low",
  Empty = "empty",
}

const LOW_WATER_MARK = 5;

/** Returns the stock status of one item. */
export function statusOf(item: Item): Status {
  if (item.quantity <= 0) {
    return Status.Empty;
  }
  return item.quantity < LOW_WATER_MARK ? Status.Low : Status.InStock;
}

export class Inventory {
  private readonly items = new Map<Sku, Item>();

  constructor(initial: Item[] = []) {
    for (const item of initial) {
      this.items.set(item.sku, { ...item });
    }
  }

  add(sku: Sku, count: number): void {
    const item = this.items.get(sku);
    if (!item) {
      throw new Error(`unknown sku ${sku}`);
    }
    item.quantity += count;
  }

  remove(sku: Sku, count: number): boolean {
    const item = this.items.get(sku);
    if (item === undefined || item.quantity < count) {
      return false;
    }
    item.quantity -= count;
    return true;
  }

  lowStock(): Item[] {
    return [...this.items.values()].filter((i) => statusOf(i) !== Status.InStock);
  }

  totalUnits(): number {
    let total = 0;
    this.items.forEach((item) => {
      total += item.quantity;
    });
    return total;
  }
}

export function loadInventory(path: string): Inventory {
  const raw = JSON.parse(readFileSync(path, "utf8")) as Item[];
  const valid = raw.filter((i) => /^[A-Z]{3}-\d{4}$/.test(i.sku));
  return new Inventory(valid);
}

async function main(): Promise<void> {
  const inventory = loadInventory(process.argv[2] ?? "inventory.json");
  const ratio = inventory.lowStock().length / Math.max(1, inventory.totalUnits());
  console.log(`low stock ratio: ${ratio.toFixed(3)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
