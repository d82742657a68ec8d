'use strict';

// An in-memory user directory.  Data lives as long as the process does.

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

class ValidationError extends Error {}

function validateUser(input) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('body must be a JSON object');
  }
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  const email = typeof input.email === 'string' ? input.email.trim().toLowerCase() : '';
  if (!name) throw new ValidationError('name is required');
  if (name.length > 100) throw new ValidationError('name is longer than 100 characters');
  if (!EMAIL.test(email)) throw new ValidationError('email is not a valid address');
  return { name, email };
}

class UserStore {
  constructor() {
    this.users = new Map();
    this.nextId = 1;
  }

  list() {
    return [...this.users.values()];
  }

  get(id) {
    return this.users.get(id) || null;
  }

  create(input) {
    const { name, email } = validateUser(input);
    for (const user of this.users.values()) {
      if (user.email === email) throw new ValidationError(`email ${email} is already registered`);
    }
    const user = { id: this.nextId++, name, email, createdAt: new Date().toISOString() };
    this.users.set(user.id, user);
    return user;
  }

  remove(id) {
    return this.users.delete(id);
  }
}

module.exports = { UserStore, ValidationError, validateUser };
