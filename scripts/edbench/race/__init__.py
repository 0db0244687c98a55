"""The fair race: each contestant's search space and seeded trials, the budgets they run at, and
the winner chosen on validation alone."""
