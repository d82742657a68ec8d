'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { UserStore, ValidationError } = require('../src/users');

describe('UserStore', () => {
  it('assigns increasing ids and normalises input', () => {
    const store = new UserStore();
    const a = store.create({ name: '  Grace Hopper ', email: 'GRACE@example.org' });
    const b = store.create({ name: 'Alan Turing', email: 'alan@example.org' });
    assert.equal(a.id, 1);
    assert.equal(b.id, 2);
    assert.equal(a.name, 'Grace Hopper');
    assert.equal(a.email, 'grace@example.org');
    assert.deepEqual(store.list(), [a, b]);
  });

  it('validates name and email', () => {
    const store = new UserStore();
    assert.throws(() => store.create(null), ValidationError);
    assert.throws(() => store.create([]), ValidationError);
    assert.throws(() => store.create({ email: 'x@example.org' }), /name is required/);
    assert.throws(() => store.create({ name: 'x'.repeat(101), email: 'x@example.org' }), /longer/);
    assert.throws(() => store.create({ name: 'X', email: 'x@' }), /email/);
  });

  it('removes users', () => {
    const store = new UserStore();
    const u = store.create({ name: 'Edsger', email: 'ewd@example.org' });
    assert.equal(store.remove(u.id), true);
    assert.equal(store.remove(u.id), false);
    assert.equal(store.get(u.id), null);
  });
});
