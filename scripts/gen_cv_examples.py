#!/usr/bin/env python3
"""Write data/store_sales.csv: a small seeded synthetic data set for the
group-fold and time-series-fold examples (configs/store_sales_group.toml,
configs/store_sales_time_series.toml).

120 rows: 8 stores (`store`, the groups) x 15 weeks (`week`, an ISO date,
the order), shuffled so that file order is not time order; features
`price`, `promo`, `temperature`; target `sales`, a noisy function of them
plus a store effect and a trend over the weeks. Standard library only;
the same file every run.
"""
import datetime
import os
import random

rng = random.Random(19)
rows = []
start = datetime.date(2024, 1, 1)
store_effect = {f"s{i}": rng.uniform(-20, 20) for i in range(8)}
for week in range(15):
    day = start + datetime.timedelta(weeks=week)
    for store, effect in store_effect.items():
        price = round(rng.uniform(2.0, 6.0), 2)
        promo = rng.randint(0, 1)
        temperature = round(10 + 8 * rng.random() + 0.5 * week, 1)
        sales = 200 - 18 * price + 25 * promo + 1.5 * temperature + effect + 2 * week
        sales = round(sales + rng.gauss(0, 6), 1)
        rows.append((store, day.isoformat(), price, promo, temperature, sales))
rng.shuffle(rows)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "store_sales.csv")
with open(out, "w") as f:
    f.write("store,week,price,promo,temperature,sales\n")
    for r in rows:
        f.write(",".join(str(x) for x in r) + "\n")
