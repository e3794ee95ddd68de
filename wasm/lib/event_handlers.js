'use strict';
// Event handler IDL attributes (HTML §8.1.8.1) for EventTarget subclasses: `on<type>` getters and
// setters; assigning replaces the previous handler, null removes it. The handler is registered as
// a listener at the time of the first assignment, so it keeps its position among the listeners.

function defineEventHandlers(proto, types) {
  for (const type of types) {
    Object.defineProperty(proto, 'on' + type, {
      configurable: true,
      enumerable: true,
      get() { return (this._handlers && this._handlers[type]) || null; },
      set(fn) {
        if (!this._handlers) Object.defineProperty(this, '_handlers', { value: {} });
        const h = this._handlers;
        const value = typeof fn === 'function' || (fn && typeof fn === 'object') ? fn : null;
        if (!h['$' + type]) {
          h['$' + type] = (ev) => {
            const cur = h[type];
            if (typeof cur === 'function') return cur.call(this, ev);
            if (cur && typeof cur.handleEvent === 'function') return cur.handleEvent(ev);
            return undefined;
          };
          this.addEventListener(type, h['$' + type]);
        }
        h[type] = value;
      },
    });
  }
}

module.exports = { defineEventHandlers };
