-- 0010: reserved for the grassroots places work (units); an empty step here
-- until that branch lands, so 0011 and 0012 number in sequence. On merge,
-- take the places branch's file.
SELECT 1;
