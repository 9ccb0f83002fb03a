/** Labelled form controls shared by the dashboard's forms (the label wraps its control). */

export function TextField(props: {
  label: string;
  value: string;
  placeholder?: string;
  onValue: (value: string) => void;
}) {
  return (
    <label>
      {props.label}
      <input
        type="text"
        value={props.value}
        placeholder={props.placeholder}
        onInput={(ev) => {
          props.onValue(ev.currentTarget.value);
        }}
      />
    </label>
  );
}

export function CheckField(props: {
  label: string;
  checked: boolean;
  onChecked: (checked: boolean) => void;
}) {
  return (
    <label class="check">
      <input
        type="checkbox"
        checked={props.checked}
        onChange={(ev) => {
          props.onChecked(ev.currentTarget.checked);
        }}
      />
      {props.label}
    </label>
  );
}
