/// <reference lib="dom" />
/**
 * The ⋮ menu of one integration, following the WAI-ARIA menu button
 * pattern: the button says it opens a menu and whether it is open; Enter,
 * Space or ↓ open it on the first item (↑ on the last); ↑ ↓ Home End move;
 * Enter or Space choose; Escape closes and gives focus back to the button;
 * Tab or a click elsewhere closes it. Choosing fires `menu-select` with the
 * item's id.
 */
import { LitElement, html, nothing } from 'lit';
import { styles } from './styles';

export interface MenuItem {
  id: string;
  label: string;
  destructive?: boolean;
}

export class ActionMenu extends LitElement {
  static override styles = styles;
  static override properties = {
    label: { type: String },
    items: { attribute: false },
    open: { state: true },
    focusIndex: { state: true },
  };

  declare label: string;
  declare items: MenuItem[];
  declare open: boolean;
  /** The item that has focus while the menu is open (roving focus). */
  declare focusIndex: number;

  constructor() {
    super();
    this.label = 'More actions';
    this.items = [];
    this.open = false;
    this.focusIndex = 0;
  }

  private readonly closeOnOutsideClick = (event: MouseEvent) => {
    if (!event.composedPath().includes(this)) this.open = false;
  };

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('click', this.closeOnOutsideClick);
  }

  override disconnectedCallback(): void {
    document.removeEventListener('click', this.closeOnOutsideClick);
    super.disconnectedCallback();
  }

  /** Gives focus back to the ⋮ button (after a dialog the menu opened closes). */
  override focus(): void {
    this.renderRoot.querySelector<HTMLButtonElement>('button')?.focus();
  }

  private show(index: number) {
    this.focusIndex = (index + this.items.length) % this.items.length;
    this.open = true;
  }

  protected override updated(): void {
    if (this.open) this.renderRoot.querySelectorAll<HTMLElement>('[role="menuitem"]')[this.focusIndex]?.focus();
  }

  private onButtonKey(event: KeyboardEvent) {
    if (event.key === 'ArrowDown' || event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.show(0);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      this.show(this.items.length - 1);
    }
  }

  private onMenuKey(event: KeyboardEvent) {
    const moves: Record<string, number> = { ArrowDown: this.focusIndex + 1, ArrowUp: this.focusIndex - 1, Home: 0, End: this.items.length - 1 };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      this.show(target);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      this.open = false;
      this.focus();
    } else if (event.key === 'Tab') {
      this.open = false;
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      const item = this.items[this.focusIndex];
      if (item) this.choose(item);
    }
  }

  private choose(item: MenuItem) {
    this.open = false;
    this.dispatchEvent(new CustomEvent('menu-select', { detail: { id: item.id }, bubbles: true, composed: true }));
  }

  protected override render() {
    return html`<div class="menu-wrap">
      <button
        class="menu-button"
        aria-haspopup="menu"
        aria-expanded=${this.open ? 'true' : 'false'}
        aria-controls=${this.open ? 'menu' : nothing}
        aria-label=${this.label}
        @click=${() => (this.open ? (this.open = false) : this.show(0))}
        @keydown=${this.onButtonKey}
      >⋮</button>
      ${this.open
        ? html`<ul id="menu" role="menu" aria-label=${this.label} @keydown=${this.onMenuKey}>
            ${this.items.map(
              (item, index) =>
                html`<li role="menuitem" tabindex="-1" class=${item.destructive ? 'destructive' : ''}
                  @click=${() => this.choose(item)} @focus=${() => (this.focusIndex = index)}>${item.label}</li>`,
            )}
          </ul>`
        : ''}
    </div>`;
  }
}

if (!customElements.get('hr-action-menu')) customElements.define('hr-action-menu', ActionMenu);
