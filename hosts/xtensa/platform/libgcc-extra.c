/* 64-bit division and multiplication that Debian's lx106 libgcc leaves to the ESP8266 ROM.
 * (__udivmoddi4 is in libgcc; these are the thin entry points gcc calls.) */
typedef unsigned long long u64;
typedef long long s64;

extern u64 __udivmoddi4(u64 a, u64 b, u64 *rem);

u64 __udivdi3(u64 a, u64 b) { return __udivmoddi4(a, b, 0); }

u64 __umoddi3(u64 a, u64 b) { u64 r; __udivmoddi4(a, b, &r); return r; }

s64 __divdi3(s64 a, s64 b)
{
	int negative = (a < 0) != (b < 0);
	u64 q = __udivmoddi4(a < 0 ? -(u64)a : (u64)a, b < 0 ? -(u64)b : (u64)b, 0);
	return negative ? -(s64)q : (s64)q;
}

s64 __muldi3(s64 a, s64 b)
{
	unsigned int al = (unsigned int)a, ah = (unsigned int)((u64)a >> 32);
	unsigned int bl = (unsigned int)b, bh = (unsigned int)((u64)b >> 32);
	unsigned int l0 = al & 0xFFFF, l1 = al >> 16, m0 = bl & 0xFFFF, m1 = bl >> 16;
	u64 low = (u64)(l0 * m0) + ((u64)(l1 * m0) << 16) + ((u64)(l0 * m1) << 16) + ((u64)(l1 * m1) << 32);
	unsigned int high = (unsigned int)(low >> 32) + al * bh + ah * bl;
	return (s64)(((u64)high << 32) | (unsigned int)low);
}
