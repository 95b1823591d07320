// Static preload check over compiled mqttc modules: what XS puts in flash at build time must
// not be module-level mutable state. Reports, per module:
//   - module-level `let`/`var` (a preloaded module's bindings live in ROM),
//   - module-level mutable containers: object/array literals not passed to Object.freeze,
//     `new X()` (Map, Set, typed arrays, class instances...), regexps with g/y (lastIndex),
//     values computed by calls at load time, and the same inside a frozen literal,
//   - class static fields holding such values, and static blocks,
//   - statements run at import time (top-level expression statements),
//   - writes inside functions to a module-level binding or its properties (assignment,
//     ++/--, delete, or a mutating method such as push/set/add/clear).
// The checker reads JavaScript (what xsc compiles); checkTypeScript transpiles first.
import ts from "typescript";

const MUTATORS = new Set(["push", "pop", "shift", "unshift", "splice", "sort", "reverse", "fill", "copyWithin",
	"set", "add", "delete", "clear", "setUint8", "setInt8", "setUint16", "setInt16", "setUint32", "setInt32",
	"setFloat32", "setFloat64", "setBigInt64", "setBigUint64"]);
const PURE_CALLS = new Set(["Symbol", "String", "Number", "Boolean", "BigInt", "Math.min", "Math.max", "Math.floor", "Math.ceil", "Math.round", "Math.abs", "Math.pow"]);
const IMMUTABLE_NEW = new Set(["TextEncoder", "TextDecoder"]);

/** Transpile a TypeScript module as the XS host and mcconfig do (types stripped, ESM kept);
 * returns the JavaScript and, per JavaScript line (0-based), the TypeScript line (0-based). */
export function compile(source, fileName = "module.ts") {
	const out = ts.transpileModule(source, {
		fileName,
		compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, useDefineForClassFields: true, sourceMap: true },
	});
	return { js: out.outputText, lines: sourceLines(JSON.parse(out.sourceMapText).mappings) };
}

/** The original line of the first segment of each generated line of a source map. */
function sourceLines(mappings) {
	const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const lines = [];
	let sourceLine = 0;
	for (const group of mappings.split(";")) {
		let first;
		for (const segment of group.split(",")) {
			if (!segment) continue;
			const values = [];
			for (let i = 0, value = 0, shift = 0; i < segment.length; i++) {
				const digit = BASE64.indexOf(segment[i]);
				value += (digit & 31) << shift;
				if (digit & 32) shift += 5;
				else {
					values.push(value & 1 ? -(value >>> 1) : value >>> 1);
					value = 0;
					shift = 0;
				}
			}
			if (values.length >= 4) {
				sourceLine += values[2];
				first ??= sourceLine;
			}
		}
		lines.push(first);
	}
	return lines;
}

/** Findings for a TypeScript module, checked in its compiled form, with TypeScript line numbers. */
export function checkTypeScript(source, name = "module") {
	const { js, lines } = compile(source, `${name}.ts`);
	return checkModule(js, name).map((f) => ({ ...f, line: lines[f.line - 1] !== undefined ? lines[f.line - 1] + 1 : f.line }));
}

/** Findings for one compiled module: [{line, message}]. */
export function checkModule(js, name = "module") {
	const file = ts.createSourceFile(`${name}.js`, js, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
	const findings = [];
	const report = (node, message) => findings.push({ module: name, line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1, message });
	const moduleNames = new Set();       // module-level bindings that are objects or may be
	const classNames = new Set();

	const text = (node) => node.getText(file);
	const callee = (node) => text(node.expression).replace(/\s+/g, "");

	/** Why a module-level value is mutable, or undefined when it is not. */
	function mutable(expr, frozen = false) {
		while (ts.isParenthesizedExpression(expr) || ts.isAsExpression?.(expr) || ts.isSatisfiesExpression?.(expr)) expr = expr.expression;
		if (ts.isArrayLiteralExpression(expr)) {
			if (!frozen) return "an array that is not frozen";
			for (const element of expr.elements) { const why = mutable(element); if (why) return `an element that is ${why}`; }
			return undefined;
		}
		if (ts.isObjectLiteralExpression(expr)) {
			if (!frozen) return "an object that is not frozen";
			for (const property of expr.properties) {
				if (ts.isPropertyAssignment(property)) { const why = mutable(property.initializer); if (why) return `a property that is ${why}`; }
				else if (ts.isSpreadAssignment(property)) return "a spread at load time";
			}
			return undefined;
		}
		if (ts.isRegularExpressionLiteral(expr)) return /\/[a-z]*[gy][a-z]*$/.test(expr.text) ? "a regexp with g or y (lastIndex changes)" : undefined;
		if (ts.isNewExpression(expr)) return IMMUTABLE_NEW.has(text(expr.expression)) ? undefined : `new ${text(expr.expression)}() (a mutable object)`;
		if (ts.isCallExpression(expr)) {
			const name = callee(expr);
			if (name === "Object.freeze") return expr.arguments.length === 1 ? mutable(expr.arguments[0], true) : undefined;
			if (PURE_CALLS.has(name)) return undefined;
			return `the result of ${name}() at load time`;
		}
		if (ts.isBinaryExpression(expr)) return mutable(expr.left) ?? mutable(expr.right);
		if (ts.isConditionalExpression(expr)) return mutable(expr.whenTrue) ?? mutable(expr.whenFalse);
		if (ts.isClassExpression(expr)) { checkClass(expr); return undefined; }
		return undefined;     // literals, templates, identifiers, functions, arrows, unary
	}

	function checkClass(node) {
		for (const member of node.members) {
			const isStatic = member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
			if (ts.isClassStaticBlockDeclaration(member)) report(member, `class ${node.name?.text ?? "?"}: a static block runs at load time`);
			else if (isStatic && ts.isPropertyDeclaration(member) && member.initializer) {
				const why = mutable(member.initializer);
				if (why) report(member, `class ${node.name?.text ?? "?"}: static field ${text(member.name)} is ${why}`);
			}
		}
	}

	for (const statement of file.statements) {
		if (ts.isVariableStatement(statement)) {
			const list = statement.declarationList;
			const kind = list.flags & ts.NodeFlags.Const ? "const" : list.flags & ts.NodeFlags.Let ? "let" : "var";
			for (const declaration of list.declarations) {
				for (const id of bindingNames(declaration.name)) moduleNames.add(id);
				if (kind !== "const") report(declaration, `module-level ${kind} ${text(declaration.name)}`);
				else if (declaration.initializer) {
					const why = mutable(declaration.initializer);
					if (why) report(declaration, `module-level const ${text(declaration.name)} is ${why}`);
				}
			}
		}
		else if (ts.isClassDeclaration(statement)) {
			if (statement.name) { moduleNames.add(statement.name.text); classNames.add(statement.name.text); }
			checkClass(statement);
		}
		else if (ts.isFunctionDeclaration(statement)) {
			if (statement.name) moduleNames.add(statement.name.text);
		}
		else if (ts.isExportAssignment(statement)) {
			const why = mutable(statement.expression);
			if (why) report(statement, `export default is ${why}`);
		}
		else if (ts.isExpressionStatement(statement)) {
			if (!ts.isStringLiteral(statement.expression)) report(statement, `code runs at import time: ${text(statement).slice(0, 60)}`);
		}
		else if (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement) || ts.isEmptyStatement(statement)) {
			// nothing happens at load time
		}
		else report(statement, `statement runs at import time: ${text(statement).slice(0, 60)}`);
	}

	// Writes to module-level bindings from inside functions.
	const root = (expr) => {
		while (ts.isPropertyAccessExpression(expr) || ts.isElementAccessExpression(expr) || ts.isParenthesizedExpression(expr) || ts.isNonNullExpression?.(expr)) expr = expr.expression;
		return ts.isIdentifier(expr) ? expr.text : undefined;
	};
	const isModuleLevel = (name, scopes) => name !== undefined && moduleNames.has(name) && !scopes.some((scope) => scope.has(name));
	const write = (target, scopes, node, how) => {
		const name = root(target);
		if (!isModuleLevel(name, scopes)) return;
		if (ts.isIdentifier(target)) return;      // rebinding: a let/var, already reported
		report(node, `writes module-level ${name} (${how}: ${text(node).slice(0, 60)})`);
	};
	function visit(node, scopes) {
		if (ts.isFunctionLike(node) && node !== file) {
			const scope = new Set();
			for (const parameter of node.parameters ?? []) for (const id of bindingNames(parameter.name)) scope.add(id);
			collectDeclarations(node.body, scope);
			if (node.name && ts.isIdentifier(node.name) && !ts.isMethodDeclaration(node)) scope.add(node.name.text);
			scopes = [...scopes, scope];
		}
		if (ts.isBinaryExpression(node) && node.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && node.operatorToken.kind <= ts.SyntaxKind.LastAssignment)
			write(node.left, scopes, node, "assignment");
		else if ((ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) && (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken))
			write(node.operand, scopes, node, "increment");
		else if (ts.isDeleteExpression(node))
			write(node.expression, scopes, node, "delete");
		else if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && MUTATORS.has(node.expression.name.text)) {
			const target = node.expression.expression;
			const name = root(target);
			if (isModuleLevel(name, scopes) && !classNames.has(name)) report(node, `mutates module-level ${name} (${text(node).slice(0, 60)})`);
		}
		ts.forEachChild(node, (child) => visit(child, scopes));
	}
	for (const statement of file.statements) if (!ts.isImportDeclaration(statement)) visit(statement, []);
	return findings;
}

function bindingNames(name) {
	if (ts.isIdentifier(name)) return [name.text];
	const names = [];
	for (const element of name.elements ?? []) if (!ts.isOmittedExpression(element)) names.push(...bindingNames(element.name));
	return names;
}

/** Names declared in a function body (not in nested functions). */
function collectDeclarations(body, scope) {
	if (!body) return;
	const walk = (node) => {
		if (ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isBindingElement(node)) for (const id of bindingNames(node.name)) scope.add(id);
		else if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) && node.name) scope.add(node.name.text);
		else if (ts.isCatchClause(node) && node.variableDeclaration) for (const id of bindingNames(node.variableDeclaration.name)) scope.add(id);
		if (ts.isFunctionLike(node)) return;
		ts.forEachChild(node, walk);
	};
	ts.forEachChild(body, walk);
}
