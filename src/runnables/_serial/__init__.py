"""The machinery behind `runnables.load`: paths and the allow-list, rules per class, the
writer and the reviver."""
